// HDF5's native types and property classes expand to (H5open(), X_g): expose them as functions.
#include <hdf5.h>

static inline hid_t ch5_native_float(void) { return H5T_NATIVE_FLOAT; }
static inline hid_t ch5_native_double(void) { return H5T_NATIVE_DOUBLE; }
static inline hid_t ch5_native_uint8(void) { return H5T_NATIVE_UINT8; }
static inline hid_t ch5_native_int16(void) { return H5T_NATIVE_INT16; }
static inline hid_t ch5_native_int32(void) { return H5T_NATIVE_INT32; }
static inline hid_t ch5_native_int64(void) { return H5T_NATIVE_INT64; }
static inline hid_t ch5_native_uint32(void) { return H5T_NATIVE_UINT32; }
static inline hid_t ch5_native_uint64(void) { return H5T_NATIVE_UINT64; }
static inline hid_t ch5_c_s1(void) { return H5T_C_S1; }
static inline hid_t ch5_p_default(void) { return H5P_DEFAULT; }
static inline hid_t ch5_s_all(void) { return H5S_ALL; }
static inline hid_t ch5_p_dataset_create(void) { return H5P_DATASET_CREATE; }
static inline hid_t ch5_p_dataset_access(void) { return H5P_DATASET_ACCESS; }
static inline hid_t ch5_p_file_access(void) { return H5P_FILE_ACCESS; }
static inline hid_t ch5_p_group_create(void) { return H5P_GROUP_CREATE; }
static inline hid_t ch5_p_link_create(void) { return H5P_LINK_CREATE; }
static inline unsigned ch5_f_acc_trunc(void) { return H5F_ACC_TRUNC; }
static inline unsigned ch5_f_acc_excl(void) { return H5F_ACC_EXCL; }
static inline unsigned ch5_f_acc_rdonly(void) { return H5F_ACC_RDONLY; }
static inline unsigned ch5_f_acc_rdwr(void) { return H5F_ACC_RDWR; }
static inline size_t ch5_variable(void) { return H5T_VARIABLE; }
static inline hsize_t ch5_unlimited(void) { return H5S_UNLIMITED; }
/// Stops HDF5 printing its error stack to stderr; we report errors ourselves with the file name.
static inline void ch5_silence_errors(void) { H5Eset_auto2(H5E_DEFAULT, NULL, NULL); }

// ---- Opening a file image in memory without copying it (the core driver) ----
// A checkpoint is mapped once (MappedFile), hashed and checked, and HDF5 then reads that same
// memory: the core driver asks these callbacks for buffers, and they hand back the mapping itself
// instead of allocating and copying (the H5LT "don't copy, don't release" contract, with our own
// file access list so the strong close degree is kept). The image is read-only to HDF5: the file
// is opened H5F_ACC_RDONLY, so realloc (growing a written file) is refused.
typedef struct { void *buffer; size_t size; } ch5_image;
static inline void *ch5_image_malloc(size_t size, H5FD_file_image_op_t op, void *udata) {
    ch5_image *im = (ch5_image *)udata; (void)op;
    return size <= im->size ? im->buffer : NULL;
}
static inline void *ch5_image_memcpy(void *dest, const void *src, size_t size, H5FD_file_image_op_t op, void *udata) {
    (void)op; (void)udata;
    if (dest != src) return NULL;  /* every buffer is the one image: a real copy is never asked for */
    (void)size;
    return dest;
}
static inline void *ch5_image_realloc(void *ptr, size_t size, H5FD_file_image_op_t op, void *udata) {
    (void)ptr; (void)size; (void)op; (void)udata; return NULL;
}
static inline herr_t ch5_image_free(void *ptr, H5FD_file_image_op_t op, void *udata) { (void)ptr; (void)op; (void)udata; return 0; }
static inline void *ch5_image_udata_copy(void *udata) { return udata; }
static inline herr_t ch5_image_udata_free(void *udata) { (void)udata; return 0; }
/// Sets `fapl` to read the image `im` (owned by the caller, alive until the file is closed) in place.
static inline herr_t ch5_set_file_image(hid_t fapl, ch5_image *im) {
    if (H5Pset_fapl_core(fapl, 1 << 20, 0) < 0) return -1;
    H5FD_file_image_callbacks_t cb = { ch5_image_malloc, ch5_image_memcpy, ch5_image_realloc, ch5_image_free,
                                       ch5_image_udata_copy, ch5_image_udata_free, im };
    if (H5Pset_file_image_callbacks(fapl, &cb) < 0) return -1;
    return H5Pset_file_image(fapl, im->buffer, im->size);
}
static inline haddr_t ch5_haddr_undef(void) { return HADDR_UNDEF; }
static inline hid_t ch5_ieee_f32le(void) { return H5T_IEEE_F32LE; }
