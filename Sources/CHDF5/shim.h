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
/// glibc's memmem (a GNU extension the Glibc module does not export): H5Guard's signature search.
extern void *memmem(const void *haystack, size_t haystacklen, const void *needle, size_t needlelen);
static inline const void *ch5_memmem(const void *haystack, size_t n, const void *needle, size_t m) { return memmem(haystack, n, needle, m); }
