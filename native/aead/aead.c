/*
 * AES-256-GCM over caller-owned memory, for the object envelope (src/keys/envelope/native-gcm.ts).
 *
 * Node's Cipher API allocates a new buffer for every update() and cannot write into memory the
 * caller already has. On this project's machine that allocation costs about as much as the
 * cipher itself (docs/benchmarks.md, "Native AES-GCM"). This addon runs the very same OpenSSL
 * (the one built into the node binary: the symbols resolve against the running process) on
 * buffers the caller hands in, either in place or into one output buffer.
 *
 * One function, one segment per call:
 *
 *   gcm(seal, key, iv, aad, pieces, out, tag) -> boolean
 *
 *   seal    true to encrypt (writes the 16-byte tag into `tag`), false to decrypt (checks it)
 *   key     Uint8Array(32);  iv  Uint8Array(12);  aad  Uint8Array (may be empty)
 *   pieces  Array of Uint8Array: the segment's input, in order
 *   out     null to work in place (each piece overwritten by its output), or one Uint8Array at
 *           least as long as all pieces together (the output, contiguous, from offset 0)
 *   tag     Uint8Array(16)
 *
 * Returns true, or false when decrypting and the tag does not verify: then every byte this call
 * wrote (the pieces in place, or the output) is zeroed, so no unauthenticated plaintext is left
 * behind. Arguments of the wrong type or size throw a TypeError; nothing is written.
 */
#define NAPI_VERSION 8
#include <limits.h>
#include <node_api.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <string.h>

#define KEY_SIZE 32
#define IV_SIZE 12
#define TAG_SIZE 16
#define MAX_PIECES 64

static EVP_CIPHER *aes_256_gcm = NULL;
static pthread_once_t fetch_once = PTHREAD_ONCE_INIT;

static void fetch_cipher(void) { aes_256_gcm = EVP_CIPHER_fetch(NULL, "AES-256-GCM", NULL); }

/* The bytes of a Uint8Array (Buffer included); 0 when `value` is anything else. */
static int bytes_of(napi_env env, napi_value value, unsigned char **data, size_t *length) {
  bool is_typed = false;
  if (napi_is_typedarray(env, value, &is_typed) != napi_ok || !is_typed) return 0;
  napi_typedarray_type type;
  void *base = NULL;
  if (napi_get_typedarray_info(env, value, &type, length, &base, NULL, NULL) != napi_ok) return 0;
  if (type != napi_uint8_array) return 0;
  *data = base;
  return 1;
}

static napi_value fail_args(napi_env env, const char *what) {
  napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", what);
  return NULL;
}

/* Feeds `length` bytes at `in` to the cipher, writing to `out`, in runs OpenSSL's int can hold. */
static int update(EVP_CIPHER_CTX *ctx, unsigned char *out, const unsigned char *in, size_t length) {
  while (length > 0) {
    int run = length > INT_MAX / 2 ? INT_MAX / 2 : (int)length;
    int written = 0;
    if (EVP_CipherUpdate(ctx, out, &written, in, run) != 1 || written != run) return 0;
    in += run;
    out += run;
    length -= (size_t)run;
  }
  return 1;
}

static napi_value gcm(napi_env env, napi_callback_info info) {
  size_t argc = 7;
  napi_value argv[7];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 7) {
    return fail_args(env, "gcm: expected 7 arguments");
  }
  bool seal = false;
  if (napi_get_value_bool(env, argv[0], &seal) != napi_ok) {
    return fail_args(env, "gcm: seal must be a boolean");
  }
  unsigned char *key, *iv, *aad, *tag;
  size_t key_len, iv_len, aad_len, tag_len;
  if (!bytes_of(env, argv[1], &key, &key_len) || key_len != KEY_SIZE) {
    return fail_args(env, "gcm: key must be a Uint8Array of 32 bytes");
  }
  if (!bytes_of(env, argv[2], &iv, &iv_len) || iv_len != IV_SIZE) {
    return fail_args(env, "gcm: iv must be a Uint8Array of 12 bytes");
  }
  if (!bytes_of(env, argv[3], &aad, &aad_len) || aad_len > INT_MAX) {
    return fail_args(env, "gcm: aad must be a Uint8Array");
  }
  if (!bytes_of(env, argv[6], &tag, &tag_len) || tag_len != TAG_SIZE) {
    return fail_args(env, "gcm: tag must be a Uint8Array of 16 bytes");
  }
  bool is_array = false;
  uint32_t count = 0;
  if (napi_is_array(env, argv[4], &is_array) != napi_ok || !is_array ||
      napi_get_array_length(env, argv[4], &count) != napi_ok || count > MAX_PIECES) {
    return fail_args(env, "gcm: pieces must be an array of at most 64 Uint8Arrays");
  }
  unsigned char *piece[MAX_PIECES];
  size_t piece_len[MAX_PIECES];
  size_t total = 0;
  for (uint32_t i = 0; i < count; i++) {
    napi_value element;
    if (napi_get_element(env, argv[4], i, &element) != napi_ok ||
        !bytes_of(env, element, &piece[i], &piece_len[i])) {
      return fail_args(env, "gcm: every piece must be a Uint8Array");
    }
    total += piece_len[i];
  }
  napi_valuetype out_type;
  unsigned char *out = NULL;
  size_t out_len = 0;
  if (napi_typeof(env, argv[5], &out_type) != napi_ok) return fail_args(env, "gcm: bad out");
  if (out_type != napi_null) {
    if (!bytes_of(env, argv[5], &out, &out_len) || out_len < total) {
      return fail_args(env, "gcm: out must be null or a Uint8Array as long as the pieces");
    }
  }

  pthread_once(&fetch_once, fetch_cipher);
  if (aes_256_gcm == NULL) {
    napi_throw_error(env, "ERR_CRYPTO_UNKNOWN_CIPHER", "gcm: OpenSSL has no AES-256-GCM");
    return NULL;
  }
  EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
  int ok = ctx != NULL && EVP_CipherInit_ex(ctx, aes_256_gcm, NULL, key, iv, seal ? 1 : 0) == 1;
  int written = 0;
  if (ok && aad_len > 0) ok = EVP_CipherUpdate(ctx, NULL, &written, aad, (int)aad_len) == 1;
  size_t at = 0;
  for (uint32_t i = 0; ok && i < count; i++) {
    unsigned char *target = out == NULL ? piece[i] : out + at;
    ok = update(ctx, target, piece[i], piece_len[i]);
    at += piece_len[i];
  }
  if (ok && !seal) ok = EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, TAG_SIZE, tag) == 1;
  unsigned char final_block[32];
  if (ok) ok = EVP_CipherFinal_ex(ctx, final_block, &written) == 1 && written == 0;
  if (ok && seal) ok = EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, TAG_SIZE, tag) == 1;
  EVP_CIPHER_CTX_free(ctx);

  if (!ok && !seal) {
    /* Whatever was decrypted is unauthenticated: leave none of it behind. */
    if (out == NULL) {
      for (uint32_t i = 0; i < count; i++) memset(piece[i], 0, piece_len[i]);
    } else {
      memset(out, 0, total);
    }
  }
  if (!ok && seal) {
    napi_throw_error(env, "ERR_CRYPTO_OPERATION_FAILED", "gcm: OpenSSL failed to seal");
    return NULL;
  }
  napi_value result;
  napi_get_boolean(env, ok, &result);
  return result;
}

NAPI_MODULE_INIT() {
  napi_value fn;
  if (napi_create_function(env, "gcm", NAPI_AUTO_LENGTH, gcm, NULL, &fn) != napi_ok) return NULL;
  if (napi_set_named_property(env, exports, "gcm", fn) != napi_ok) return NULL;
  return exports;
}
