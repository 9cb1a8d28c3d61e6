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
