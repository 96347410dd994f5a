// libpng's simplified API only (png_image_*): the classic API reports errors with longjmp,
// which must never cross Swift frames.
#include <png.h>
#include <string.h>

static inline png_image cpng_image_init(void) {
    png_image image;
    memset(&image, 0, sizeof image);
    image.version = PNG_IMAGE_VERSION;
    return image;
}
static inline png_uint_32 cpng_format_rgb(void) { return PNG_FORMAT_RGB; }
static inline png_uint_32 cpng_format_rgba(void) { return PNG_FORMAT_RGBA; }
static inline png_uint_32 cpng_format_gray(void) { return PNG_FORMAT_GRAY; }
static inline png_uint_32 cpng_format_linear(void) { return PNG_FORMAT_FLAG_LINEAR; }
static inline size_t cpng_image_size(const png_image *image) { return PNG_IMAGE_SIZE(*image); }
static inline int cpng_failed(const png_image *image) { return PNG_IMAGE_FAILED(*image); }
