/* seqloop.h: the whole public API. Each module header also compiles alone. */
#ifndef SEQLOOP_H
#define SEQLOOP_H

#include "seqloop/alphabet.h"
#include "seqloop/ar.h"
#include "seqloop/audit.h"
#include "seqloop/base.h"
#include "seqloop/dist.h"
#include "seqloop/shard.h"
#include "seqloop/progress.h"
#include "seqloop/gibbs.h"
#include "seqloop/sample.h"
#include "seqloop/kern.h"
#include "seqloop/metrics.h"
#include "seqloop/model.h"
#include "seqloop/potts.h"
#include "seqloop/rng.h"
#include "seqloop/score.h"
#include "seqloop/zeroshot.h"
#include "seqloop/sasa.h"
#include "seqloop/benchmark.h"
#include "seqloop/structure.h"
#include "seqloop/tfm.h"
#include "seqloop/msa.h"
#include "seqloop/seqfile.h"
#include "seqloop/split.h"
#include "seqloop/info.h"
#include "seqloop/weights.h"
#include "seqloop/ledger.h"
#include "seqloop/design.h"
#include "seqloop/report.h"

#endif
