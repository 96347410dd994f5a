// OpenBLAS (pthread build): cblas_sgemm plus openblas_set_num_threads / openblas_get_config.
#include <cblas.h>

// glibc's mallopt, which Swift's Glibc module does not export (malloc.h): the tensor core tunes
// the allocator once (Storage.allocatorTuned). A no-op returning 0 on other C libraries.
#if defined(__GLIBC__)
#include <malloc.h>
static inline int cblas_shim_tune_malloc(int mmap_threshold, int trim_threshold) {
    return mallopt(M_MMAP_THRESHOLD, mmap_threshold) && mallopt(M_TRIM_THRESHOLD, trim_threshold);
}
#else
static inline int cblas_shim_tune_malloc(int mmap_threshold, int trim_threshold) { (void)mmap_threshold; (void)trim_threshold; return 0; }
#endif
