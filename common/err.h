/*
 * err: the one table that maps cairn's internal errors to S3.
 *
 * Every layer returns 0 or a negative CN_E* code. Only s3api turns a code into
 * an S3 error (code string, HTTP status, message) through cn_err_info(); the
 * layers below never speak HTTP.
 */
#ifndef CN_ERR_H
#define CN_ERR_H

enum {
    CN_OK = 0,
    CN_EINTERNAL = 1,          /* InternalError 500 */
    CN_ENOMEM,                 /* InternalError 500 */
    CN_EIO,                    /* InternalError 500: a provider or disk failed */
    CN_ETOOLARGE,              /* a capped buffer would overflow */
    CN_ENOTIMPL,               /* NotImplemented 501 */
    CN_EACCESS,                /* AccessDenied 403 */
    CN_ENOKEY_ID,              /* InvalidAccessKeyId 403 */
    CN_ESIGNATURE,             /* SignatureDoesNotMatch 403 */
    CN_ESKEW,                  /* RequestTimeTooSkewed 403 */
    CN_EEXPIRED,               /* AccessDenied 403 "Request has expired" */
    CN_EAUTHHDR,               /* AuthorizationHeaderMalformed 400 */
    CN_EAUTHQUERY,             /* AuthorizationQueryParametersError 400 */
    CN_EMISSING_SECURITY,      /* MissingSecurityHeader 400 */
    CN_ESHA256_MISMATCH,       /* XAmzContentSHA256Mismatch 400 */
    CN_EBAD_DIGEST,            /* BadDigest 400 (Content-MD5 or checksum mismatch) */
    CN_EINVALID_DIGEST,        /* InvalidDigest 400 (unparsable Content-MD5) */
    CN_EINCOMPLETE_BODY,       /* IncompleteBody 400 */
    CN_EINVALID_REQUEST,       /* InvalidRequest 400 */
    CN_EINVALID_ARGUMENT,      /* InvalidArgument 400 */
    CN_EMALFORMED_XML,         /* MalformedXML 400 */
    CN_EINVALID_BUCKET_NAME,   /* InvalidBucketName 400 */
    CN_EKEY_TOO_LONG,          /* KeyTooLongError 400 */
    CN_EINVALID_KEY,           /* InvalidArgument 400 for hostile keys */
    CN_ENO_BUCKET,             /* NoSuchBucket 404 */
    CN_ENO_KEY,                /* NoSuchKey 404 */
    CN_ENO_UPLOAD,             /* NoSuchUpload 404 */
    CN_ENO_VERSION,            /* NoSuchVersion 404 */
    CN_ENO_TAGSET,             /* NoSuchTagSet 404 */
    CN_EBUCKET_EXISTS,         /* BucketAlreadyOwnedByYou 409 */
    CN_EBUCKET_TAKEN,          /* BucketAlreadyExists 409 */
    CN_EBUCKET_NOT_EMPTY,      /* BucketNotEmpty 409 */
    CN_EPRECONDITION,          /* PreconditionFailed 412 */
    CN_ENOT_MODIFIED,          /* 304, no body */
    CN_ERANGE,                 /* InvalidRange 416 */
    CN_EINVALID_PART,          /* InvalidPart 400 */
    CN_EINVALID_PART_ORDER,    /* InvalidPartOrder 400 */
    CN_EENTITY_TOO_SMALL,      /* EntityTooSmall 400 */
    CN_EENTITY_TOO_LARGE,      /* EntityTooLarge 400 */
    CN_EMETHOD_NOT_ALLOWED,    /* MethodNotAllowed 405 */
    CN_EINVALID_STORAGE_CLASS, /* InvalidStorageClass 400 */
    CN_EINVALID_TAG,           /* InvalidTag 400 */
    CN_EMISSING_LENGTH,        /* MissingContentLength 411 */
    CN_EINVALID_LOCATION,      /* InvalidLocationConstraint 400 */
    CN_EINVALID_URI,           /* InvalidURI 400 */
    CN_ESLOW_DOWN,             /* SlowDown 503 */
    CN_EMETADATA_TOO_LARGE,    /* MetadataTooLarge 400 */
    CN_EINVALID_ENCRYPTION,    /* InvalidEncryptionAlgorithmError 400 */
    CN_ENO_SUCH_CONFIG,        /* generic 404 for absent sub-resources (policy, lifecycle) */
    CN_ECONFLICT,              /* OperationAborted 409 */
    CN_EHEADERS_TOO_LARGE,     /* RequestHeaderSectionTooLarge 400 */
    CN_EMALFORMED_POLICY,      /* MalformedPolicy 400 (bucket policy; the message says why) */
    CN_ENOT_FOUND,             /* NotFound 404: a user, group, key or capability (admin API) */
    CN_ENO_POLICY,             /* NoSuchBucketPolicy 404 */
    CN_ENO_USER,               /* NoSuchUser 404 (admin API) */
    CN_ENO_GROUP,              /* NoSuchGroup 404 (admin API) */
    CN_EEXISTS,                /* EntityAlreadyExists 409 (admin API: a user or group of that name) */
    CN_E_COUNT
};

typedef struct cn_err_info {
    const char *code;    /* S3 error code, e.g. "NoSuchKey" */
    int status;          /* HTTP status */
    const char *message; /* default human-readable message */
} cn_err_info_t;

/* err may be given positive or negative; unknown values map to InternalError. */
const cn_err_info_t *cn_err_info(int err);

#endif
