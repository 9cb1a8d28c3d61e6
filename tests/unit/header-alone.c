/* Compiled as part of the build: each public header must stand alone. */
#include <vhostio/common.h>
#include <vhostio/handler.h>
#include <vhostio/vhostio.h>
#include <vhostio/initiator.h>
#include <vhostio/vhost_fabric.h>
#include <vhostio/handler.h>

int header_alone_marker(void);
int header_alone_marker(void)
{
	return VHOSTIO_API_VERSION;
}

/* The rate-limit macros expand to code that compiles where the header is used. */
void header_alone_ratelimited(struct vhostio_device *dev);
void header_alone_ratelimited(struct vhostio_device *dev)
{
	static struct vhostio_ratelimit rl = VHOSTIO_RATELIMIT_INIT;
	VHOSTIO_DEVICE_LOG_RATELIMITED(dev, VHOSTIO_LOG_WARN, "%s", "per call site");
	(void)vhostio_device_log_ratelimited(dev, &rl, VHOSTIO_LOG_WARN, "own state");
}
