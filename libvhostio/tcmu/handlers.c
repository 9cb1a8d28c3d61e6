/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The handler registry: handlers of this process (imported whatever
 * struct size they were built with), subtypes served by other processes,
 * and config string checks.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctx.h"
#include "log.h"

static const struct handler_entry *first_handler(const struct vhostio_ctx *ctx)
{
	return __atomic_load_n(&ctx->handlers, __ATOMIC_ACQUIRE);
}

static const struct handler_entry *next_handler(const struct handler_entry *e)
{
	return __atomic_load_n(&e->next, __ATOMIC_ACQUIRE);
}

const struct vhostio_handler *ctx_find_handler(const struct vhostio_ctx *ctx, const char *subtype)
{
	for (const struct handler_entry *e = first_handler(ctx); e; e = next_handler(e))
		if (strcmp(e->handler.subtype, subtype) == 0)
			return &e->handler;
	return NULL;
}

/* Caller holds ctx->lock. */
static struct external_subtype **find_external(struct vhostio_ctx *ctx, const char *subtype)
{
	struct external_subtype **pp;
	for (pp = &ctx->externals; *pp; pp = &(*pp)->next)
		if (strcmp((*pp)->name, subtype) == 0)
			break;
	return pp;
}

int handler_import(struct vhostio_handler *dst, const struct vhostio_handler *h)
{
	/* The first two fields must be there to know what else is. */
	if (!h || h->struct_size < offsetof(struct vhostio_handler, subtype))
		return -EINVAL;
	if (h->api_version < 1 || h->api_version > VHOSTIO_API_VERSION) {
		vhostio_log(VHOSTIO_LOG_ERROR, "handler built for API version %u, this library speaks 1..%u",
			    h->api_version, VHOSTIO_API_VERSION);
		return -EINVAL;
	}
	/* Built against a newer library: what we don't know must be unused. */
	if (h->struct_size > sizeof(*dst)) {
		const uint8_t *extra = (const uint8_t *)h + sizeof(*dst);
		for (size_t i = 0; i < h->struct_size - sizeof(*dst); i++) {
			if (extra[i]) {
				vhostio_log(VHOSTIO_LOG_ERROR,
					    "handler '%s' uses fields this libvhostio (%s) does not know; it needs a newer one",
					    h->subtype ? h->subtype : "?", VHOSTIO_VERSION_STRING);
				return -E2BIG;
			}
		}
	}
	/* Copy what the handler was built with; newer fields stay zero. */
	memset(dst, 0, sizeof(*dst));
	memcpy(dst, h, h->struct_size < sizeof(*dst) ? h->struct_size : sizeof(*dst));
	dst->struct_size = sizeof(*dst);
	if (!dst->subtype || !dst->subtype[0] || strchr(dst->subtype, '/') || !dst->open ||
	    !dst->read || !dst->write) {
		vhostio_log(VHOSTIO_LOG_ERROR, "handler '%s' lacks a subtype or open/read/write",
			    dst->subtype ? dst->subtype : "?");
		return -EINVAL;
	}
	return 0;
}

int vhostio_ctx_add_handler(struct vhostio_ctx *ctx, const struct vhostio_handler *h)
{
	struct handler_entry *e = malloc(sizeof(*e));
	if (!e)
		return -ENOMEM;
	int ret = handler_import(&e->handler, h);
	if (ret < 0) {
		free(e);
		return ret;
	}
	e->next = NULL;

	pthread_mutex_lock(&ctx->lock);
	if (ctx_find_handler(ctx, e->handler.subtype) || *find_external(ctx, e->handler.subtype)) {
		ret = -EEXIST;
	} else {
		/* Publish the complete entry, then the count. */
		if (ctx->handlers_tail)
			__atomic_store_n(&ctx->handlers_tail->next, e, __ATOMIC_RELEASE);
		else
			__atomic_store_n(&ctx->handlers, e, __ATOMIC_RELEASE);
		ctx->handlers_tail = e;
		__atomic_add_fetch(&ctx->n_handlers, 1, __ATOMIC_RELEASE);
	}
	pthread_mutex_unlock(&ctx->lock);
	if (ret < 0) {
		vhostio_log(VHOSTIO_LOG_ERROR, "a handler for subtype '%s' is already registered", e->handler.subtype);
		free(e);
		return ret;
	}
	vhostio_log(VHOSTIO_LOG_INFO, "handler '%s' registered (API %u)", e->handler.subtype,
		    e->handler.api_version);
	return 0;
}

int vhostio_ctx_handler_count(const struct vhostio_ctx *ctx)
{
	return __atomic_load_n(&ctx->n_handlers, __ATOMIC_ACQUIRE);
}

static const struct vhostio_handler *handler_at(const struct vhostio_ctx *ctx, int index)
{
	const struct handler_entry *e = index >= 0 ? first_handler(ctx) : NULL;
	for (; e && index > 0; index--)
		e = next_handler(e);
	return e ? &e->handler : NULL;
}

const char *vhostio_ctx_handler_subtype(const struct vhostio_ctx *ctx, int index)
{
	const struct vhostio_handler *h = handler_at(ctx, index);
	return h ? h->subtype : NULL;
}

const char *vhostio_ctx_handler_config_desc(const struct vhostio_ctx *ctx, int index)
{
	const struct vhostio_handler *h = handler_at(ctx, index);
	return h ? (h->config_desc ? h->config_desc : "") : NULL;
}

static char *strdup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

int ctx_check_cfgstring(struct vhostio_ctx *ctx, const char *cfgstring, const struct vhostio_handler **hp,
			   char **reason)
{
	char subtype[64];
	const char *slash = strchr(cfgstring, '/');
	size_t len = slash ? (size_t)(slash - cfgstring) : strlen(cfgstring);

	*hp = NULL;
	if (!slash || len == 0 || len >= sizeof(subtype)) {
		vhostio_set_reason(reason, "'%s' is not <subtype>/<config>", cfgstring);
		return -EINVAL;
	}
	memcpy(subtype, cfgstring, len);
	subtype[len] = '\0';

	const struct vhostio_handler *h = ctx_find_handler(ctx, subtype);
	if (!h) {
		vhostio_set_reason(reason, "no handler for subtype '%s'", subtype);
		return -ENOENT;
	}
	*hp = h;
	if (!h->check_config)
		return 0;
	char *why = NULL;
	int ret = h->check_config(slash + 1, &why);
	if (ret > 0)
		ret = 0;
	if (ret < 0 && reason)
		*reason = why ? why : strdup_or_null(strerror(-ret));
	else
		free(why);
	return ret;
}

int vhostio_ctx_check_config(struct vhostio_ctx *ctx, const char *cfgstring, char **reason)
{
	const struct vhostio_handler *h;
	if (reason)
		*reason = NULL;
	return ctx_check_cfgstring(ctx, cfgstring, &h, reason);
}

int vhostio_ctx_add_external_subtype(struct vhostio_ctx *ctx, const char *subtype)
{
	if (!subtype[0] || strchr(subtype, '/'))
		return -EINVAL;
	size_t len = strlen(subtype) + 1;
	struct external_subtype *e = malloc(sizeof(*e) + len);
	if (!e)
		return -ENOMEM;
	memcpy(e->name, subtype, len);

	pthread_mutex_lock(&ctx->lock);
	int ret = ctx_find_handler(ctx, subtype) || *find_external(ctx, subtype) ? -EEXIST : 0;
	if (ret == 0) {
		e->next = ctx->externals;
		ctx->externals = e;
	}
	pthread_mutex_unlock(&ctx->lock);
	if (ret < 0)
		free(e);
	else
		vhostio_log(VHOSTIO_LOG_INFO, "subtype '%s' is served by another process", subtype);
	return ret;
}

int vhostio_ctx_remove_external_subtype(struct vhostio_ctx *ctx, const char *subtype)
{
	pthread_mutex_lock(&ctx->lock);
	struct external_subtype **pp = find_external(ctx, subtype);
	struct external_subtype *e = *pp;
	if (e)
		*pp = e->next;
	pthread_mutex_unlock(&ctx->lock);
	if (!e)
		return -ENOENT;
	free(e);
	vhostio_log(VHOSTIO_LOG_INFO, "subtype '%s' is no longer served by another process", subtype);
	return 0;
}

bool ctx_is_external(struct vhostio_ctx *ctx, const char *subtype)
{
	pthread_mutex_lock(&ctx->lock);
	bool external = *find_external(ctx, subtype) != NULL;
	pthread_mutex_unlock(&ctx->lock);
	return external;
}

void ctx_free_handlers(struct vhostio_ctx *ctx)
{
	while (ctx->handlers) {
		struct handler_entry *e = ctx->handlers;
		ctx->handlers = e->next;
		free(e);
	}
	ctx->handlers_tail = NULL;
	ctx->n_handlers = 0;
	while (ctx->externals) {
		struct external_subtype *e = ctx->externals;
		ctx->externals = e->next;
		free(e);
	}
}
