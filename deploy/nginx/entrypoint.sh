#!/bin/sh
# Renders the configuration from the environment, then runs nginx in the foreground.
set -eu
: "${CRM_LISTEN:=8080}"
: "${CRM_UPSTREAM:=web:8000}"
export CRM_LISTEN CRM_UPSTREAM
# Only these two names are replaced: nginx's own $variables stay as they are.
# shellcheck disable=SC2016
envsubst '${CRM_LISTEN} ${CRM_UPSTREAM}' </etc/crm-proxy/crm.conf.template >/var/lib/crm-proxy/nginx.conf
exec nginx -p /var/lib/crm-proxy/ -c nginx.conf -g 'daemon off;'
