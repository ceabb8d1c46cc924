// SPDX-License-Identifier: GPL-2.0-only
/* The release binary is static, and GnuTLS (the agent's HTTPS, through
 * libmicrohttpd) calls p11-kit for PKCS#11 tokens and URIs; Debian ships
 * p11-kit only as a shared library. These stand in for the p11-kit entry
 * points GnuTLS links against: each says that no module, token or URI is
 * there, so a "pkcs11:" key or certificate fails with GnuTLS's own error
 * while keys and certificates from files, all the agent takes, work. */
#include <stddef.h>
#include <p11-kit/p11-kit.h>
#include <p11-kit/pin.h>
#include <p11-kit/uri.h>

static const char absent[] = "PKCS#11 is not available in this static build of sockeye";

const char *p11_kit_message(void) { return absent; }
const char *p11_kit_strerror(CK_RV rv) { return absent; }
CK_FUNCTION_LIST **p11_kit_modules_load(const char *reserved, int flags) { return NULL; }
CK_FUNCTION_LIST *p11_kit_module_load(const char *path, int flags) { return NULL; }
CK_RV p11_kit_module_finalize(CK_FUNCTION_LIST *module) { return CKR_GENERAL_ERROR; }
void p11_kit_module_release(CK_FUNCTION_LIST *module) { }
char *p11_kit_module_get_name(CK_FUNCTION_LIST *module) { return NULL; }
int p11_kit_module_get_flags(CK_FUNCTION_LIST *module) { return 0; }
char *p11_kit_config_option(CK_FUNCTION_LIST *module, const char *option) { return NULL; }
size_t p11_kit_space_strlen(const unsigned char *s, size_t max) { return 0; }
char *p11_kit_space_strdup(const unsigned char *s, size_t max) { return NULL; }

P11KitUri *p11_kit_uri_new(void) { return NULL; }
void p11_kit_uri_free(P11KitUri *uri) { }
int p11_kit_uri_parse(const char *s, P11KitUriType type, P11KitUri *uri) { return P11_KIT_URI_BAD_SCHEME; }
int p11_kit_uri_format(P11KitUri *uri, P11KitUriType type, char **s) { return P11_KIT_URI_NOT_FOUND; }
CK_INFO_PTR p11_kit_uri_get_module_info(P11KitUri *uri) { return NULL; }
CK_TOKEN_INFO_PTR p11_kit_uri_get_token_info(P11KitUri *uri) { return NULL; }
CK_ATTRIBUTE_PTR p11_kit_uri_get_attribute(P11KitUri *uri, CK_ATTRIBUTE_TYPE type) { return NULL; }
CK_ATTRIBUTE_PTR p11_kit_uri_get_attributes(P11KitUri *uri, CK_ULONG *n) { *n = 0; return NULL; }
int p11_kit_uri_set_attribute(P11KitUri *uri, CK_ATTRIBUTE_PTR attr) { return P11_KIT_URI_NOT_FOUND; }
int p11_kit_uri_match_module_info(const P11KitUri *uri, const CK_INFO *info) { return 0; }
int p11_kit_uri_match_token_info(const P11KitUri *uri, const CK_TOKEN_INFO *info) { return 0; }
const char *p11_kit_uri_get_pin_value(const P11KitUri *uri) { return NULL; }
const char *p11_kit_uri_get_pin_source(const P11KitUri *uri) { return NULL; }

P11KitPin *p11_kit_pin_new_for_string(const char *value) { return NULL; }
P11KitPin *p11_kit_pin_request(const char *source, P11KitUri *uri, const char *desc,
			       P11KitPinFlags flags) { return NULL; }
P11KitPin *p11_kit_pin_file_callback(const char *source, P11KitUri *uri, const char *desc,
				     P11KitPinFlags flags, void *data) { return NULL; }
int p11_kit_pin_register_callback(const char *source, p11_kit_pin_callback cb, void *data,
				  p11_kit_pin_destroy_func destroy) { return -1; }
void p11_kit_pin_unregister_callback(const char *source, p11_kit_pin_callback cb, void *data) { }
const unsigned char *p11_kit_pin_get_value(P11KitPin *pin, size_t *length) { *length = 0; return NULL; }
size_t p11_kit_pin_get_length(P11KitPin *pin) { return 0; }
void p11_kit_pin_unref(P11KitPin *pin) { }
