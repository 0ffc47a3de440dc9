#include <cblas.h>
// Not declared in every cblas.h: OpenBLAS's own thread and configuration controls.
void openblas_set_num_threads(int num_threads);
int openblas_get_num_threads(void);
char *openblas_get_config(void);
char *openblas_get_corename(void);
