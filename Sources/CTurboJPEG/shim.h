// TurboJPEG's tj* API returns error codes (no setjmp), so Swift can call it safely.
#include <turbojpeg.h>
