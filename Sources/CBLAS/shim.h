// OpenBLAS (pthread build): cblas_sgemm plus openblas_set_num_threads / openblas_get_config.
#include <cblas.h>
