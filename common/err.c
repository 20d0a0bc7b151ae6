/*
 * err: the table from internal error codes to S3 errors. Keep it in the
 * order of the enum in err.h (designated initialisers keep them aligned); an
 * entry left out maps to InternalError.
 */
#include "err.h"

#include <stddef.h>

static const cn_err_info_t table[CN_E_COUNT] = {
    [CN_OK] = {"OK", 200, "OK"},
    [CN_EINTERNAL] = {"InternalError", 500, "We encountered an internal error. Please try again."},
    [CN_ENOMEM] = {"InternalError", 500, "We encountered an internal error. Please try again."},
    [CN_EIO] = {"InternalError", 500, "We encountered an internal error. Please try again."},
    [CN_ETOOLARGE] = {"InvalidRequest", 400, "The request is too large."},
    [CN_ENOTIMPL] = {"NotImplemented", 501, "A header you provided implies functionality that is not implemented."},
    [CN_EACCESS] = {"AccessDenied", 403, "Access Denied"},
    [CN_ENOKEY_ID] = {"InvalidAccessKeyId", 403, "The AWS Access Key Id you provided does not exist in our records."},
    [CN_ESIGNATURE] = {"SignatureDoesNotMatch", 403,
                       "The request signature we calculated does not match the signature you provided. Check your "
                       "key and signing method."},
    [CN_ESKEW] = {"RequestTimeTooSkewed", 403,
                  "The difference between the request time and the current time is too large."},
    [CN_EEXPIRED] = {"AccessDenied", 403, "Request has expired"},
    [CN_EAUTHHDR] = {"AuthorizationHeaderMalformed", 400, "The authorization header is malformed."},
    [CN_EAUTHQUERY] = {"AuthorizationQueryParametersError", 400,
                       "Query-string authentication requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, "
                       "X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters."},
    [CN_EMISSING_SECURITY] = {"MissingSecurityHeader", 400, "Your request is missing a required header."},
    [CN_ESHA256_MISMATCH] = {"XAmzContentSHA256Mismatch", 400,
                             "The provided 'x-amz-content-sha256' header does not match what was computed."},
    [CN_EBAD_DIGEST] = {"BadDigest", 400, "The Content-MD5 you specified did not match what we received."},
    [CN_EINVALID_DIGEST] = {"InvalidDigest", 400, "The Content-MD5 you specified is not valid."},
    [CN_EINCOMPLETE_BODY] = {"IncompleteBody", 400,
                             "You did not provide the number of bytes specified by the Content-Length HTTP header."},
    [CN_EINVALID_REQUEST] = {"InvalidRequest", 400, "Invalid Request"},
    [CN_EINVALID_ARGUMENT] = {"InvalidArgument", 400, "Invalid Argument"},
    [CN_EMALFORMED_XML] = {"MalformedXML", 400,
                           "The XML you provided was not well-formed or did not validate against our published "
                           "schema."},
    [CN_EINVALID_BUCKET_NAME] = {"InvalidBucketName", 400, "The specified bucket is not valid."},
    [CN_EKEY_TOO_LONG] = {"KeyTooLongError", 400, "Your key is too long"},
    [CN_EINVALID_KEY] = {"InvalidArgument", 400, "Object key is not valid."},
    [CN_ENO_BUCKET] = {"NoSuchBucket", 404, "The specified bucket does not exist"},
    [CN_ENO_KEY] = {"NoSuchKey", 404, "The specified key does not exist."},
    [CN_ENO_UPLOAD] = {"NoSuchUpload", 404,
                       "The specified upload does not exist. The upload ID may be invalid, or the upload may have "
                       "been aborted or completed."},
    [CN_ENO_VERSION] = {"NoSuchVersion", 404, "The specified version does not exist."},
    [CN_ENO_TAGSET] = {"NoSuchTagSet", 404, "The TagSet does not exist"},
    [CN_EBUCKET_EXISTS] = {"BucketAlreadyOwnedByYou", 409,
                           "Your previous request to create the named bucket succeeded and you already own it."},
    [CN_EBUCKET_TAKEN] = {"BucketAlreadyExists", 409,
                          "The requested bucket name is not available. The bucket namespace is shared by all users "
                          "of the system. Please select a different name and try again."},
    [CN_EBUCKET_NOT_EMPTY] = {"BucketNotEmpty", 409, "The bucket you tried to delete is not empty"},
    [CN_EPRECONDITION] = {"PreconditionFailed", 412, "At least one of the pre-conditions you specified did not hold"},
    [CN_ENOT_MODIFIED] = {"NotModified", 304, "Not Modified"},
    [CN_ERANGE] = {"InvalidRange", 416, "The requested range is not satisfiable"},
    [CN_EINVALID_PART] = {"InvalidPart", 400,
                          "One or more of the specified parts could not be found. The part may not have been "
                          "uploaded, or the specified entity tag may not match the part's entity tag."},
    [CN_EINVALID_PART_ORDER] = {"InvalidPartOrder", 400,
                                "The list of parts was not in ascending order. Parts must be ordered by part "
                                "number."},
    [CN_EENTITY_TOO_SMALL] = {"EntityTooSmall", 400,
                              "Your proposed upload is smaller than the minimum allowed object size."},
    [CN_EENTITY_TOO_LARGE] = {"EntityTooLarge", 400, "Your proposed upload exceeds the maximum allowed object size."},
    [CN_EMETHOD_NOT_ALLOWED] = {"MethodNotAllowed", 405, "The specified method is not allowed against this resource."},
    [CN_EINVALID_STORAGE_CLASS] = {"InvalidStorageClass", 400, "The storage class you specified is not valid"},
    [CN_EINVALID_TAG] = {"InvalidTag", 400, "The tag provided was not a valid tag."},
    [CN_EMISSING_LENGTH] = {"MissingContentLength", 411, "You must provide the Content-Length HTTP header."},
    [CN_EINVALID_LOCATION] = {"InvalidLocationConstraint", 400, "The specified location-constraint is not valid"},
    [CN_EINVALID_URI] = {"InvalidURI", 400, "Couldn't parse the specified URI."},
    [CN_ESLOW_DOWN] = {"SlowDown", 503, "Please reduce your request rate."},
    [CN_EMETADATA_TOO_LARGE] = {"MetadataTooLarge", 400,
                                "Your metadata headers exceed the maximum allowed metadata size."},
    [CN_EINVALID_ENCRYPTION] = {"InvalidEncryptionAlgorithmError", 400,
                                "The encryption request you specified is not valid."},
    [CN_ENO_SUCH_CONFIG] = {"NoSuchConfiguration", 404, "The specified configuration does not exist."},
    [CN_ECONFLICT] = {"OperationAborted", 409,
                      "A conflicting conditional operation is currently in progress against this resource."},
    [CN_EHEADERS_TOO_LARGE] = {"RequestHeaderSectionTooLarge", 400,
                               "Your request header section exceeds the maximum size allowed."},
    [CN_EMALFORMED_POLICY] = {"MalformedPolicy", 400, "The bucket policy is not valid."},
    [CN_ENOT_FOUND] = {"NotFound", 404, "The resource does not exist."},
    [CN_ENO_POLICY] = {"NoSuchBucketPolicy", 404, "The bucket policy does not exist"},
    [CN_ENO_USER] = {"NoSuchUser", 404, "The specified user does not exist."},
    [CN_ENO_GROUP] = {"NoSuchGroup", 404, "The specified group does not exist."},
    [CN_EEXISTS] = {"EntityAlreadyExists", 409, "An entity of that name already exists."},
};

const cn_err_info_t *cn_err_info(int err)
{
    if (err < 0)
        err = -err;
    if (err >= CN_E_COUNT || table[err].code == NULL)
        err = CN_EINTERNAL;
    return &table[err];
}
