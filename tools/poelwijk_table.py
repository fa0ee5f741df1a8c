#!/usr/bin/env python3
"""tools/poelwijk_table.py IN OUT: the Poelwijk et al. 2019 landscape
(../shared/data/poelwijk2019/supp_data_3.csv: two header lines, genotypes
quoted as '0101...') as a plain table for seqloop's table oracle: columns
genotype (13 binary sites, quotes stripped) and brightness (column 8, the
combined blue brightness; the values bench/conformal_poelwijk.sh uses).
Used by bench/design_poelwijk.sh and tests/e2e/weighted.sh
(--oracle table:OUT,seq=genotype,value=brightness,symbols=01)."""
import csv
import sys

rows = list(csv.reader(open(sys.argv[1])))[2:]
with open(sys.argv[2], "w") as f:
    f.write("genotype,brightness\n")
    for r in rows:
        f.write(r[0].strip("'") + "," + r[7] + "\n")
