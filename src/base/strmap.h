/* strmap.h (private): a small open-addressing hash map from strings to
 * int64 values, used for name look-ups (Stockholm rows, duplicate names,
 * duplicate sequences). Keys are borrowed, not copied: they must outlive the map.
 */
#ifndef SL_STRMAP_H
#define SL_STRMAP_H

#include <stddef.h>
#include <stdint.h>

typedef struct sl_strmap sl_strmap;

sl_strmap *sl_strmap_create(size_t expected);
void sl_strmap_destroy(sl_strmap *m);
/* Look up key (len bytes); returns its value or -1. */
int64_t sl_strmap_get(const sl_strmap *m, const char *key, size_t len);
/* Insert key -> value if absent. Returns the value already there, -1 if the
 * key was new (and is now inserted), or -2 when out of memory. */
int64_t sl_strmap_put(sl_strmap *m, const char *key, size_t len, int64_t value);

#endif
