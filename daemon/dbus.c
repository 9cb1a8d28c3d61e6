/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * org.kernel.TCMUService1: the D-Bus service targetcli-fb uses to list
 * user backstore handlers (GetManagedObjects, ConfigDesc), check a config
 * before creating a backstore (CheckConfig), change a backstore's medium
 * (ChangeMedium), and let handlers living in other processes join
 * (HandlerManager1.RegisterHandler).
 *
 * All of it runs on the runner's main loop, which also dispatches netlink:
 * anything that may block (a handler's check_config, a configfs write that
 * waits for the kernel's RECONFIG round trip through this very loop) runs
 * in a GTask thread and replies from the loop when it is done.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dbus.h"

#define ROOT_PATH "/org/kernel/TCMUService1"
#define HM_NAME "HandlerManager1"
#define HM_PATH ROOT_PATH "/" HM_NAME
#define HANDLER_IFACE "org.kernel.TCMUService1"
#define HM_IFACE "org.kernel.TCMUService1.HandlerManager1"
#define ACCESS_DENIED "org.freedesktop.DBus.Error.AccessDenied"

static const char introspection_xml[] =
	"<node>"
	"  <interface name='" HANDLER_IFACE "'>"
	"    <property name='ConfigDesc' type='s' access='read'/>"
	"    <method name='CheckConfig'>"
	"      <arg name='configstr' type='s' direction='in'/>"
	"      <arg name='is_valid' type='b' direction='out'/>"
	"      <arg name='message' type='s' direction='out'/>"
	"    </method>"
	"    <method name='ChangeMedium'>"
	"      <arg name='name' type='s' direction='in'/>"
	"      <arg name='size' type='t' direction='in'/>"
	"      <arg name='config' type='s' direction='in'/>"
	"      <arg name='rc' type='i' direction='out'/>"
	"      <arg name='message' type='s' direction='out'/>"
	"    </method>"
	"  </interface>"
	"  <interface name='" HM_IFACE "'>"
	"    <method name='RegisterHandler'>"
	"      <arg name='subtype' type='s' direction='in'/>"
	"      <arg name='cfgdesc' type='s' direction='in'/>"
	"      <arg name='succeeded' type='b' direction='out'/>"
	"      <arg name='message' type='s' direction='out'/>"
	"    </method>"
	"  </interface>"
	"</node>";

struct dbus_service {
	struct vhostio_ctx *ctx;
	dbus_lost_fn on_lost;
	void *opaque;
	GDBusNodeInfo *node;
	GDBusConnection *conn;
	gulong closed_handler;   /* "closed" signal of conn */
	GDBusObjectManagerServer *manager;
	GDBusInterfaceSkeleton *hm;
	GHashTable *handlers; /* subtype -> VioIface (one ref), local and external */
	GCancellable *cancel;
	int busy; /* method calls not answered yet */
	bool stopping;
};

/*
 * One exported interface.  GDBusInterfaceSkeleton is abstract and we do
 * not use gdbus-codegen, so this small subclass serves both interfaces:
 * its info, vtable and property values are plain fields.
 */
typedef struct {
	GDBusInterfaceSkeleton parent;
	struct dbus_service *svc;
	GDBusInterfaceInfo *info;
	GDBusInterfaceVTable *vtable;
	char *subtype;     /* handler objects only */
	char *config_desc; /* handler objects only */
	char *owner;       /* external handlers: the registering connection */
	guint watch;       /* external handlers: watch on 'owner' */
} VioIface;

typedef struct {
	GDBusInterfaceSkeletonClass parent_class;
} VioIfaceClass;

GType vio_iface_get_type(void);
G_DEFINE_TYPE(VioIface, vio_iface, G_TYPE_DBUS_INTERFACE_SKELETON)

static GDBusInterfaceInfo *vio_iface_get_info(GDBusInterfaceSkeleton *skel)
{
	return ((VioIface *)skel)->info;
}

static GDBusInterfaceVTable *vio_iface_get_vtable(GDBusInterfaceSkeleton *skel)
{
	return ((VioIface *)skel)->vtable;
}

/* What GetManagedObjects and Properties.GetAll report. */
static GVariant *vio_iface_get_properties(GDBusInterfaceSkeleton *skel)
{
	VioIface *self = (VioIface *)skel;
	GVariantBuilder b;
	g_variant_builder_init(&b, G_VARIANT_TYPE("a{sv}"));
	if (self->config_desc)
		g_variant_builder_add(&b, "{sv}", "ConfigDesc", g_variant_new_string(self->config_desc));
	return g_variant_builder_end(&b);
}

static void vio_iface_flush(GDBusInterfaceSkeleton *skel)
{
	(void)skel; /* properties never change, nothing is queued */
}

static void vio_iface_finalize(GObject *obj)
{
	VioIface *self = (VioIface *)obj;
	if (self->watch)
		g_bus_unwatch_name(self->watch);
	g_free(self->subtype);
	g_free(self->config_desc);
	g_free(self->owner);
	G_OBJECT_CLASS(vio_iface_parent_class)->finalize(obj);
}

static void vio_iface_init(VioIface *self)
{
	(void)self;
}

static void vio_iface_class_init(VioIfaceClass *klass)
{
	GDBusInterfaceSkeletonClass *sk = G_DBUS_INTERFACE_SKELETON_CLASS(klass);
	sk->get_info = vio_iface_get_info;
	sk->get_vtable = vio_iface_get_vtable;
	sk->get_properties = vio_iface_get_properties;
	sk->flush = vio_iface_flush;
	G_OBJECT_CLASS(klass)->finalize = vio_iface_finalize;
}

/* ---- one method call, from arrival to reply ---- */

enum call_kind { CALL_CHECK_CONFIG, CALL_CHANGE_MEDIUM, CALL_REGISTER };

struct call {
	struct dbus_service *svc;
	VioIface *iface; /* a ref: the object may be dropped while we work */
	GDBusMethodInvocation *inv;
	enum call_kind kind;
	char *name;   /* ChangeMedium; RegisterHandler: the subtype */
	guint64 size; /* ChangeMedium */
	char *config; /* CheckConfig, ChangeMedium; RegisterHandler: cfgdesc */
	int rc;
	char *reason; /* malloc'd by libvhostio */
};

static void call_free(struct call *c)
{
	c->svc->busy--;
	g_object_unref(c->iface);
	g_free(c->name);
	g_free(c->config);
	free(c->reason);
	g_free(c);
}

static const char *reason_or_errno(const struct call *c)
{
	return c->reason && *c->reason ? c->reason : strerror(-c->rc);
}

static void reply_check(struct call *c, gboolean ok, const char *msg)
{
	g_dbus_method_invocation_return_value(c->inv, g_variant_new("(bs)", ok, msg));
	call_free(c);
}

static void reply_change(struct call *c, int rc, const char *msg)
{
	g_dbus_method_invocation_return_value(c->inv, g_variant_new("(is)", rc, msg));
	call_free(c);
}

/* "<subtype>/..." belongs to this object's subtype. */
static bool config_matches(const VioIface *it, const char *config)
{
	size_t n = strlen(it->subtype);
	return strncmp(config, it->subtype, n) == 0 && config[n] == '/';
}

static void work_thread(GTask *task, gpointer source, gpointer data, GCancellable *cancel)
{
	(void)source;
	(void)cancel; /* a configfs write in progress cannot be taken back */
	struct call *c = data;
	if (c->kind == CALL_CHECK_CONFIG)
		c->rc = vhostio_ctx_check_config(c->svc->ctx, c->config, &c->reason);
	else
		c->rc = vhostio_ctx_change_medium(c->svc->ctx, c->name, c->size, c->config, &c->reason);
	g_task_return_boolean(task, TRUE);
}

static void work_done(GObject *source, GAsyncResult *res, gpointer data)
{
	(void)source;
	(void)res;
	struct call *c = data;
	if (c->kind == CALL_CHECK_CONFIG) {
		if (c->rc == 0)
			reply_check(c, TRUE, "");
		else
			reply_check(c, FALSE, reason_or_errno(c));
		return;
	}
	if (c->rc == 0) {
		vhostio_log(VHOSTIO_LOG_INFO, "D-Bus ChangeMedium %s: done", c->name);
		reply_change(c, 0, "");
	} else {
		vhostio_log(VHOSTIO_LOG_WARN, "D-Bus ChangeMedium %s: %s", c->name, reason_or_errno(c));
		reply_change(c, c->rc, reason_or_errno(c));
	}
}

static void run_in_thread(struct call *c)
{
	GTask *task = g_task_new(NULL, NULL, work_done, c);
	g_task_set_task_data(task, c, NULL);
	g_task_run_in_thread(task, work_thread);
	g_object_unref(task);
}

static void forward_done(GObject *source, GAsyncResult *res, gpointer data)
{
	struct call *c = data;
	GError *err = NULL;
	GVariant *v = g_dbus_connection_call_finish(G_DBUS_CONNECTION(source), res, &err);
	if (!v) {
		char *msg = g_strdup_printf("handler '%s' (another process) did not answer: %s", c->iface->subtype,
					    err->message);
		g_error_free(err);
		reply_check(c, FALSE, msg);
		g_free(msg);
		return;
	}
	g_dbus_method_invocation_return_value(c->inv, v); /* its (bs), as it is */
	call_free(c);
}

/* An external handler checks its own configs (see the HandlerManager1
 * contract): ask it, asynchronously, on its well-known name. */
static void forward_check_config(struct call *c)
{
	char *name = g_strdup_printf(HM_IFACE ".%s", c->iface->subtype);
	char *path = g_strdup_printf(HM_PATH "/%s", c->iface->subtype);
	g_dbus_connection_call(c->svc->conn, name, path, HANDLER_IFACE, "CheckConfig",
			       g_variant_new("(s)", c->config), G_VARIANT_TYPE("(bs)"),
			       G_DBUS_CALL_FLAGS_NO_AUTO_START, -1, c->svc->cancel, forward_done, c);
	g_free(name);
	g_free(path);
}

static void owner_vanished(GDBusConnection *conn, const char *name, gpointer data);
static GDBusInterfaceVTable handler_vtable;

static bool valid_path_element(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!g_ascii_isalnum(*s) && *s != '_')
			return false;
	return true;
}

static VioIface *handler_object_add(struct dbus_service *svc, const char *subtype, const char *desc,
				    const char *owner)
{
	char *path = g_strdup_printf(ROOT_PATH "/%s", subtype);
	VioIface *it = g_object_new(vio_iface_get_type(), NULL);
	it->svc = svc;
	it->info = g_dbus_node_info_lookup_interface(svc->node, HANDLER_IFACE);
	it->subtype = g_strdup(subtype);
	it->config_desc = g_strdup(desc ? desc : "");
	it->owner = g_strdup(owner);
	it->vtable = &handler_vtable;

	GDBusObjectSkeleton *obj = g_dbus_object_skeleton_new(path);
	g_dbus_object_skeleton_add_interface(obj, G_DBUS_INTERFACE_SKELETON(it));
	g_dbus_object_manager_server_export(svc->manager, obj);
	g_object_unref(obj);
	g_hash_table_insert(svc->handlers, it->subtype, it);
	vhostio_log(VHOSTIO_LOG_INFO, "D-Bus: %s exported%s%s", path, owner ? " for " : "", owner ? owner : "");
	g_free(path);
	return it;
}

static void handler_object_remove(struct dbus_service *svc, VioIface *it)
{
	char *path = g_strdup_printf(ROOT_PATH "/%s", it->subtype);
	if (it->watch) {
		g_bus_unwatch_name(it->watch);
		it->watch = 0;
	}
	g_dbus_object_manager_server_unexport(svc->manager, path);
	vhostio_log(VHOSTIO_LOG_INFO, "D-Bus: %s removed", path);
	g_free(path);
	g_hash_table_remove(svc->handlers, it->subtype); /* drops our ref last */
}

static void register_handler(struct call *c)
{
	struct dbus_service *svc = c->svc;
	const char *subtype = c->name;
	char *msg = NULL;

	VioIface *have = g_hash_table_lookup(svc->handlers, subtype);
	if (!valid_path_element(subtype) || strcmp(subtype, HM_NAME) == 0) {
		msg = g_strdup_printf("'%s' is not a usable subtype (letters, digits and _ only)", subtype);
	} else if (have) {
		msg = g_strdup_printf("subtype '%s' is already %s", subtype,
				      have->owner ? "registered by another process" : "served by vhostio-runner");
	} else {
		int ret = vhostio_ctx_add_external_subtype(svc->ctx, subtype);
		if (ret < 0)
			msg = g_strdup_printf("subtype '%s': %s", subtype, strerror(-ret));
	}
	if (msg) {
		vhostio_log(VHOSTIO_LOG_WARN, "D-Bus RegisterHandler from %s refused: %s",
			    g_dbus_method_invocation_get_sender(c->inv), msg);
		reply_check(c, FALSE, msg);
		g_free(msg);
		return;
	}
	const char *sender = g_dbus_method_invocation_get_sender(c->inv);
	VioIface *it = handler_object_add(svc, subtype, c->config, sender);
	/* No UnregisterHandler in the contract: the handler goes when its
	 * connection does.  (Called at once if it is gone already.) */
	it->watch = g_bus_watch_name_on_connection(svc->conn, sender, G_BUS_NAME_WATCHER_FLAGS_NONE, NULL,
						   owner_vanished, it, NULL);
	reply_check(c, TRUE, "");
}

static void owner_vanished(GDBusConnection *conn, const char *name, gpointer data)
{
	(void)conn;
	VioIface *it = data;
	struct dbus_service *svc = it->svc;
	vhostio_log(VHOSTIO_LOG_INFO, "D-Bus: %s, which registered handler '%s', is gone", name, it->subtype);
	int ret = vhostio_ctx_remove_external_subtype(svc->ctx, it->subtype);
	if (ret < 0)
		vhostio_log(VHOSTIO_LOG_WARN, "removing external subtype '%s': %s", it->subtype, strerror(-ret));
	handler_object_remove(svc, it);
}

static void run_call(struct call *c)
{
	switch (c->kind) {
	case CALL_REGISTER:
		register_handler(c);
		return;
	case CALL_CHECK_CONFIG:
		if (!config_matches(c->iface, c->config)) {
			char *msg = g_strdup_printf("config '%s' does not start with '%s/'", c->config,
						    c->iface->subtype);
			reply_check(c, FALSE, msg);
			g_free(msg);
		} else if (c->iface->owner) {
			forward_check_config(c);
		} else {
			run_in_thread(c);
		}
		return;
	case CALL_CHANGE_MEDIUM:
		if (!*c->name) {
			reply_change(c, -EINVAL, "no backstore name");
		} else if (*c->config && !config_matches(c->iface, c->config)) {
			char *msg = g_strdup_printf("config '%s' does not start with '%s/'", c->config,
						    c->iface->subtype);
			reply_change(c, -EINVAL, msg);
			g_free(msg);
		} else {
			vhostio_log(VHOSTIO_LOG_INFO, "D-Bus ChangeMedium %s: size %" G_GUINT64_FORMAT " config '%s'",
				    c->name, c->size, c->config);
			run_in_thread(c);
		}
		return;
	}
}

/*
 * Second line of defence behind the bus policy: a stale policy file (for
 * instance one left by tcmu-runner's package, which lets anyone send to
 * this name) must not open methods that write configfs or stat paths to
 * every local user.  So ask the bus who the caller is.
 */
static void caller_uid_done(GObject *source, GAsyncResult *res, gpointer data)
{
	struct call *c = data;
	GError *err = NULL;
	GVariant *v = g_dbus_connection_call_finish(G_DBUS_CONNECTION(source), res, &err);
	guint32 uid = G_MAXUINT32;
	if (v) {
		g_variant_get(v, "(u)", &uid);
		g_variant_unref(v);
	} else {
		g_error_free(err);
	}
	if (c->svc->stopping) {
		g_dbus_method_invocation_return_dbus_error(c->inv, "org.freedesktop.DBus.Error.NoServer",
							   "vhostio-runner is stopping");
		call_free(c);
	} else if (uid != 0 && uid != geteuid()) {
		vhostio_log(VHOSTIO_LOG_WARN, "D-Bus %s from uid %u refused", g_dbus_method_invocation_get_method_name(c->inv),
			    uid);
		g_dbus_method_invocation_return_dbus_error(c->inv, ACCESS_DENIED, "only root may call this method");
		call_free(c);
	} else {
		run_call(c);
	}
}

static void start_call(VioIface *it, GDBusMethodInvocation *inv, struct call *c)
{
	c->svc = it->svc;
	c->iface = g_object_ref(it);
	c->inv = inv;
	c->svc->busy++;
	const char *sender = g_dbus_method_invocation_get_sender(inv);
	if (!sender) {
		g_dbus_method_invocation_return_dbus_error(inv, ACCESS_DENIED, "no sender");
		call_free(c);
		return;
	}
	g_dbus_connection_call(c->svc->conn, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
			       "GetConnectionUnixUser", g_variant_new("(s)", sender), G_VARIANT_TYPE("(u)"),
			       G_DBUS_CALL_FLAGS_NONE, -1, c->svc->cancel, caller_uid_done, c);
}

static void handler_method_call(GDBusConnection *conn, const char *sender, const char *path, const char *iface,
				const char *method, GVariant *params, GDBusMethodInvocation *inv, gpointer data)
{
	(void)conn;
	(void)sender;
	(void)path;
	(void)iface;
	struct call *c = g_new0(struct call, 1);
	if (strcmp(method, "CheckConfig") == 0) {
		c->kind = CALL_CHECK_CONFIG;
		g_variant_get(params, "(s)", &c->config);
	} else {
		c->kind = CALL_CHANGE_MEDIUM;
		g_variant_get(params, "(sts)", &c->name, &c->size, &c->config);
	}
	start_call(data, inv, c);
}

static GVariant *handler_get_property(GDBusConnection *conn, const char *sender, const char *path,
				      const char *iface, const char *prop, GError **error, gpointer data)
{
	(void)conn;
	(void)sender;
	(void)path;
	(void)iface;
	VioIface *it = data;
	if (strcmp(prop, "ConfigDesc") == 0)
		return g_variant_new_string(it->config_desc);
	g_set_error(error, G_DBUS_ERROR, G_DBUS_ERROR_UNKNOWN_PROPERTY, "no property %s", prop);
	return NULL;
}

static void hm_method_call(GDBusConnection *conn, const char *sender, const char *path, const char *iface,
			   const char *method, GVariant *params, GDBusMethodInvocation *inv, gpointer data)
{
	(void)conn;
	(void)sender;
	(void)path;
	(void)iface;
	(void)method; /* RegisterHandler is its only method */
	struct call *c = g_new0(struct call, 1);
	c->kind = CALL_REGISTER;
	g_variant_get(params, "(ss)", &c->name, &c->config);
	start_call(data, inv, c);
}

static GDBusInterfaceVTable handler_vtable = {
	.method_call = handler_method_call,
	.get_property = handler_get_property,
};
static GDBusInterfaceVTable hm_vtable = { .method_call = hm_method_call };

/* ---- the bus and the name ---- */

static void bus_closed(GDBusConnection *conn, gboolean remote, GError *err, gpointer data)
{
	(void)conn;
	(void)remote;
	(void)data;
	/* Devices keep serving: losing targetcli's view is better than
	 * stopping every initiator's I/O. */
	vhostio_log(VHOSTIO_LOG_ERROR, "D-Bus: connection to the bus closed (%s); serving without %s",
		    err ? err->message : "no reason given", TCMU_BUS_NAME);
}

static void request_name_done(GObject *source, GAsyncResult *res, gpointer data)
{
	struct dbus_service *svc = data;
	GError *err = NULL;
	GVariant *v = g_dbus_connection_call_finish(G_DBUS_CONNECTION(source), res, &err);
	svc->busy--;
	if (!v) {
		if (!g_error_matches(err, G_IO_ERROR, G_IO_ERROR_CANCELLED))
			vhostio_log(VHOSTIO_LOG_ERROR,
				    "D-Bus: may not own %s (%s); is its policy installed? Serving without it", TCMU_BUS_NAME,
				    err->message);
		g_error_free(err);
		return;
	}
	guint32 reply;
	g_variant_get(v, "(u)", &reply);
	g_variant_unref(v);
	if (reply == 1 /* PRIMARY_OWNER */ || reply == 4 /* ALREADY_OWNER */) {
		vhostio_log(VHOSTIO_LOG_INFO, "D-Bus: name %s acquired", TCMU_BUS_NAME);
		return;
	}
	/* Another daemon answers for user backstores: two would fight over
	 * every device the kernel announces. */
	vhostio_log(VHOSTIO_LOG_ERROR, "D-Bus: %s is owned by another process (vhostio-runner or tcmu-runner?)",
		    TCMU_BUS_NAME);
	svc->on_lost(svc->opaque);
}

static void bus_got(GObject *source, GAsyncResult *res, gpointer data)
{
	(void)source;
	struct dbus_service *svc = data;
	GError *err = NULL;
	GDBusConnection *conn = g_bus_get_finish(res, &err);
	svc->busy--;
	if (!conn) {
		if (!g_error_matches(err, G_IO_ERROR, G_IO_ERROR_CANCELLED))
			vhostio_log(VHOSTIO_LOG_ERROR,
				    "D-Bus: no bus (%s); serving without %s: targetcli will not list user backstores",
				    err->message, TCMU_BUS_NAME);
		g_error_free(err);
		return;
	}
	svc->conn = conn;
	g_dbus_connection_set_exit_on_close(conn, FALSE);
	svc->closed_handler = g_signal_connect(conn, "closed", G_CALLBACK(bus_closed), svc);
	g_dbus_object_manager_server_set_connection(svc->manager, conn);
	/* HandlerManager1 is deliberately not a managed object: targetcli turns
	 * every managed object into a user:<last path element> backstore. */
	if (!g_dbus_interface_skeleton_export(svc->hm, conn, HM_PATH, &err)) {
		vhostio_log(VHOSTIO_LOG_ERROR, "D-Bus: cannot export %s: %s", HM_PATH, err->message);
		g_clear_error(&err);
	}
	/* Objects first, then the name: whoever activated us may call at once.
	 * DO_NOT_QUEUE (4): waiting in line behind another daemon is useless. */
	svc->busy++;
	g_dbus_connection_call(conn, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
			       "RequestName", g_variant_new("(su)", TCMU_BUS_NAME, 4), G_VARIANT_TYPE("(u)"),
			       G_DBUS_CALL_FLAGS_NONE, -1, svc->cancel, request_name_done, svc);
}

int dbus_name_taken(GBusType bus)
{
	GError *err = NULL;
	GDBusConnection *conn = g_bus_get_sync(bus, NULL, &err);
	if (!conn) {
		g_error_free(err);
		return -ENOTCONN;
	}
	GVariant *v = g_dbus_connection_call_sync(conn, "org.freedesktop.DBus", "/org/freedesktop/DBus",
						  "org.freedesktop.DBus", "NameHasOwner",
						  g_variant_new("(s)", TCMU_BUS_NAME), G_VARIANT_TYPE("(b)"),
						  G_DBUS_CALL_FLAGS_NONE, 5000, NULL, &err);
	g_object_unref(conn);
	if (!v) {
		g_error_free(err);
		return -EIO;
	}
	gboolean owned;
	g_variant_get(v, "(b)", &owned);
	g_variant_unref(v);
	return owned ? 1 : 0;
}

struct dbus_service *dbus_service_start(struct vhostio_ctx *ctx, GBusType bus, dbus_lost_fn on_lost, void *opaque)
{
	struct dbus_service *svc = g_new0(struct dbus_service, 1);
	svc->ctx = ctx;
	svc->on_lost = on_lost;
	svc->opaque = opaque;
	svc->node = g_dbus_node_info_new_for_xml(introspection_xml, NULL);
	g_assert(svc->node); /* the XML is a constant */
	svc->cancel = g_cancellable_new();
	svc->handlers = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, g_object_unref);
	svc->manager = g_dbus_object_manager_server_new(ROOT_PATH);

	VioIface *hm = g_object_new(vio_iface_get_type(), NULL);
	hm->svc = svc;
	hm->info = g_dbus_node_info_lookup_interface(svc->node, HM_IFACE);
	hm->vtable = &hm_vtable;
	svc->hm = G_DBUS_INTERFACE_SKELETON(hm);

	dbus_service_sync_handlers(svc);
	svc->busy++;
	g_bus_get(bus, svc->cancel, bus_got, svc);
	return svc;
}

void dbus_service_sync_handlers(struct dbus_service *svc)
{
	int n = vhostio_ctx_handler_count(svc->ctx);
	for (int i = 0; i < n; i++) {
		const char *subtype = vhostio_ctx_handler_subtype(svc->ctx, i);
		if (!subtype || g_hash_table_contains(svc->handlers, subtype))
			continue;
		if (!valid_path_element(subtype) || strcmp(subtype, HM_NAME) == 0) {
			vhostio_log(VHOSTIO_LOG_WARN,
				    "D-Bus: handler '%s' not exported: a subtype must be letters, digits and _",
				    subtype);
			continue;
		}
		handler_object_add(svc, subtype, vhostio_ctx_handler_config_desc(svc->ctx, i), NULL);
	}
}

void dbus_service_stop(struct dbus_service *svc)
{
	if (!svc)
		return;
	svc->stopping = true;
	g_cancellable_cancel(svc->cancel);
	/* A ChangeMedium thread waits for the kernel, whose RECONFIG this
	 * loop's netlink source must still dispatch: keep iterating. */
	while (svc->busy > 0)
		g_main_context_iteration(NULL, TRUE);
	if (svc->conn)
		g_signal_handler_disconnect(svc->conn, svc->closed_handler);
	g_dbus_interface_skeleton_unexport(svc->hm);
	g_object_unref(svc->hm);
	g_dbus_object_manager_server_set_connection(svc->manager, NULL);
	g_hash_table_destroy(svc->handlers); /* unwatches external owners */
	g_object_unref(svc->manager);
	g_clear_object(&svc->conn);
	g_object_unref(svc->cancel);
	g_dbus_node_info_unref(svc->node);
	g_free(svc);
}
