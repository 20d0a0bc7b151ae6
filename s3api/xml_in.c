/*
 * xml_in: parsers for the request bodies S3 defines (CompleteMultipartUpload,
 * Delete, Tagging, CreateBucketConfiguration, VersioningConfiguration,
 * AccessControlPolicy), over libxml2.
 *
 * Hostile input is the normal case here:
 *  - the caller caps the body (S3_MAX_XML_BODY) before it gets here;
 *  - no network (XML_PARSE_NONET), no entity substitution (no XML_PARSE_NOENT),
 *    and any document with a DTD is refused outright, which closes entity
 *    expansion ("billion laughs") and external entities (XXE) alike;
 *  - element names are matched on their local name, with or without the S3
 *    namespace, because clients send both;
 *  - key text is taken byte for byte, never trimmed: spaces are legal in keys.
 * Anything that does not fit the schema is MalformedXML, as S3 answers.
 */
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "../common/util.h"
#include "s3int.h"

static pthread_once_t xml_once = PTHREAD_ONCE_INIT;

static void xml_init(void)
{
    xmlInitParser();
}

static int parse_doc(const char *xml, size_t n, const char *root, xmlDocPtr *doc, xmlNodePtr *top)
{
    xmlDocPtr d;
    xmlNodePtr r;

    *doc = NULL;
    if (xml == NULL || n == 0 || n > INT_MAX)
        return -CN_EMALFORMED_XML;
    pthread_once(&xml_once, xml_init);
    d = xmlReadMemory(xml, (int)n, NULL, NULL, XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    if (d == NULL)
        return -CN_EMALFORMED_XML;
    r = xmlDocGetRootElement(d);
    if (d->intSubset != NULL || d->extSubset != NULL || r == NULL || strcmp((const char *)r->name, root) != 0) {
        xmlFreeDoc(d);
        return -CN_EMALFORMED_XML;
    }
    *doc = d;
    *top = r;
    return 0;
}

static int is_elem(xmlNodePtr n, const char *name)
{
    return n->type == XML_ELEMENT_NODE && strcmp((const char *)n->name, name) == 0;
}

static xmlNodePtr child(xmlNodePtr parent, const char *name)
{
    xmlNodePtr c;

    for (c = parent->children; c != NULL; c = c->next) {
        if (is_elem(c, name))
            return c;
    }
    return NULL;
}

/* The element's text as a malloc'd string (length in *len). */
static char *text(xmlNodePtr n, size_t *len)
{
    xmlChar *c = xmlNodeGetContent(n);
    size_t l = c != NULL ? strlen((const char *)c) : 0;
    char *out = malloc(l + 1);

    if (out != NULL) {
        memcpy(out, c != NULL ? (const char *)c : "", l);
        out[l] = '\0';
    }
    xmlFree(c);
    if (len != NULL)
        *len = l;
    return out;
}

/* Text of a numeric element, surrounding whitespace allowed. */
static int number(xmlNodePtr n, long lo, long hi, long *out)
{
    char *s = text(n, NULL), *end;
    long v;
    int err = -CN_EMALFORMED_XML;

    if (s == NULL)
        return -CN_ENOMEM;
    v = strtol(s, &end, 10);
    while (*end == ' ' || *end == '\t' || *end == '\n' || *end == '\r')
        end++;
    if (end != s && *end == '\0' && v >= lo && v <= hi) {
        *out = v;
        err = 0;
    }
    free(s);
    return err;
}

static int count_children(xmlNodePtr parent, const char *name)
{
    xmlNodePtr c;
    int n = 0;

    for (c = parent->children; c != NULL; c = c->next)
        n += is_elem(c, name);
    return n;
}

/* Parses one element into the item (of an array) it is handed. */
typedef int (*item_fn)(xmlNodePtr n, void *item);

/* The <name> children of parent, min..max of them (else MalformedXML), as a
 * calloc'd array *v of size-byte items filled in order by parse(); *v stays
 * NULL when there are none. *n counts every item handed to parse(), the
 * failed one included, so that the caller's dispose frees what was taken. */
static int parse_items(xmlNodePtr parent, const char *name, int min, int max, size_t size, item_fn parse, void **v,
                       size_t *n)
{
    xmlNodePtr c;
    int count = count_children(parent, name), err = 0;

    if (count < min || count > max)
        return -CN_EMALFORMED_XML;
    if (count == 0)
        return 0;
    *v = calloc((size_t)count, size);
    if (*v == NULL)
        return -CN_ENOMEM;
    for (c = parent->children; c != NULL && err == 0; c = c->next) {
        if (is_elem(c, name))
            err = parse(c, (char *)*v + (*n)++ * size);
    }
    return err;
}

/* ---- CompleteMultipartUpload ---- */

/* ChecksumCRC32 ... ChecksumSHA256 of a Part: at most one, surrounding
 * whitespace ignored, empty taken as absent. A value that cannot be a
 * stored one is InvalidPart, like an impossible ETag. */
static int complete_checksum(xmlNodePtr p, obj_part_ref *ref)
{
    s3_ck_algo a;
    xmlNodePtr e;
    char *s, *t;
    size_t len;

    for (a = S3_CK_CRC32; a <= S3_CK_SHA256; a++) {
        e = child(p, s3__ck_elem(a));
        if (e == NULL)
            continue;
        s = text(e, &len);
        if (s == NULL)
            return -CN_ENOMEM;
        for (t = s; *t == ' ' || *t == '\t' || *t == '\n' || *t == '\r'; t++)
            len--;
        while (len > 0 && (t[len - 1] == ' ' || t[len - 1] == '\t' || t[len - 1] == '\n' || t[len - 1] == '\r'))
            len--;
        if (len > 0 && (ref->checksum.algo[0] != '\0' || len >= sizeof(ref->checksum.value))) {
            free(s);
            return -CN_EINVALID_PART;
        }
        if (len > 0) {
            snprintf(ref->checksum.algo, sizeof(ref->checksum.algo), "%s", s3__ck_name(a));
            memcpy(ref->checksum.value, t, len);
            ref->checksum.value[len] = '\0';
        }
        free(s);
    }
    return 0;
}

static int complete_part(xmlNodePtr p, void *item)
{
    obj_part_ref *ref = item;
    xmlNodePtr num = child(p, "PartNumber"), et = child(p, "ETag");
    char *s;
    size_t len;
    long v;
    int err;

    if (num == NULL || et == NULL)
        return -CN_EMALFORMED_XML;
    err = number(num, 1, OBJ_MAX_PARTS, &v);
    if (err < 0)
        return err;
    s = text(et, &len);
    if (s == NULL)
        return -CN_ENOMEM;
    ref->number = (int)v;
    if (len >= sizeof(ref->etag)) {
        free(s);
        return -CN_EINVALID_PART; /* no part has such an ETag */
    }
    memcpy(ref->etag, s, len + 1);
    free(s);
    return complete_checksum(p, ref);
}

int s3__xml_complete(const char *xml, size_t n, s3_part_list *out)
{
    xmlDocPtr doc;
    xmlNodePtr root;
    void *v = NULL;
    int err;

    memset(out, 0, sizeof(*out));
    err = parse_doc(xml, n, "CompleteMultipartUpload", &doc, &root);
    if (err < 0)
        return err;
    err = parse_items(root, "Part", 1, OBJ_MAX_PARTS, sizeof(*out->v), complete_part, &v, &out->n);
    out->v = v;
    xmlFreeDoc(doc);
    if (err < 0)
        s3__part_list_dispose(out);
    return err;
}

void s3__part_list_dispose(s3_part_list *l)
{
    free(l->v);
    l->v = NULL;
    l->n = 0;
}

/* ---- Delete ---- */

static int delete_object(xmlNodePtr o, void *item)
{
    s3_del_item *it = item;
    xmlNodePtr k = child(o, "Key"), v = child(o, "VersionId");

    if (k == NULL)
        return -CN_EMALFORMED_XML;
    it->key = text(k, &it->key_len);
    if (it->key == NULL)
        return -CN_ENOMEM;
    if (v != NULL) {
        it->version_id = text(v, NULL);
        if (it->version_id == NULL)
            return -CN_ENOMEM;
    }
    return 0;
}

static int quiet_flag(xmlNodePtr root, int *quiet)
{
    xmlNodePtr q = child(root, "Quiet");
    char *s;

    *quiet = 0;
    if (q == NULL)
        return 0;
    s = text(q, NULL);
    if (s == NULL)
        return -CN_ENOMEM;
    if (strcmp(s, "true") == 0)
        *quiet = 1;
    else if (strcmp(s, "false") != 0)
        *quiet = -1;
    free(s);
    return *quiet < 0 ? -CN_EMALFORMED_XML : 0;
}

int s3__xml_delete(const char *xml, size_t n, s3_del_list *out)
{
    xmlDocPtr doc;
    xmlNodePtr root;
    void *v = NULL;
    int err;

    memset(out, 0, sizeof(*out));
    err = parse_doc(xml, n, "Delete", &doc, &root);
    if (err < 0)
        return err;
    err = quiet_flag(root, &out->quiet);
    if (err == 0)
        err = parse_items(root, "Object", 1, S3_MAX_DELETE_OBJECTS, sizeof(*out->v), delete_object, &v, &out->n);
    out->v = v;
    xmlFreeDoc(doc);
    if (err < 0)
        s3__del_list_dispose(out);
    return err;
}

void s3__del_list_dispose(s3_del_list *l)
{
    size_t i;

    for (i = 0; i < l->n; i++) {
        free(l->v[i].key);
        free(l->v[i].version_id);
    }
    free(l->v);
    l->v = NULL;
    l->n = 0;
}

/* ---- Tagging ---- */

static int one_tag(xmlNodePtr t, void *item)
{
    obj_tag *tag = item;
    xmlNodePtr k = child(t, "Key"), v = child(t, "Value");

    if (k == NULL || v == NULL)
        return -CN_EMALFORMED_XML;
    tag->key = text(k, NULL);
    tag->value = text(v, NULL);
    return tag->key != NULL && tag->value != NULL ? 0 : -CN_ENOMEM;
}

int s3__xml_tagging(const char *xml, size_t n, obj_tags *out)
{
    xmlDocPtr doc;
    xmlNodePtr root, set;
    void *v = NULL;
    int err;

    memset(out, 0, sizeof(*out));
    err = parse_doc(xml, n, "Tagging", &doc, &root);
    if (err < 0)
        return err;
    set = child(root, "TagSet");
    if (set == NULL)
        err = -CN_EMALFORMED_XML;
    else
        err = parse_items(set, "Tag", 0, INT_MAX, sizeof(*out->v), one_tag, &v, &out->n);
    out->v = v;
    xmlFreeDoc(doc);
    if (err < 0)
        s3__tags_dispose(out);
    return err;
}

/* ---- CreateBucketConfiguration ---- */

int s3__xml_location(const char *xml, size_t n, char *out, size_t cap)
{
    xmlDocPtr doc;
    xmlNodePtr root, lc;
    char *s = NULL;
    size_t len = 0;
    int err;

    out[0] = '\0';
    err = parse_doc(xml, n, "CreateBucketConfiguration", &doc, &root);
    if (err < 0)
        return err;
    lc = child(root, "LocationConstraint");
    if (lc != NULL) {
        s = text(lc, &len);
        if (s == NULL)
            err = -CN_ENOMEM;
        else if (len >= cap)
            err = -CN_EINVALID_LOCATION;
        else
            memcpy(out, s, len + 1);
    }
    free(s);
    xmlFreeDoc(doc);
    return err;
}

/* ---- VersioningConfiguration ---- */

static int short_text(xmlNodePtr parent, const char *name, char out[16])
{
    xmlNodePtr n = child(parent, name);
    size_t len = 0;
    char *s = NULL;

    out[0] = '\0';
    if (n == NULL)
        return 0;
    s = text(n, &len);
    if (s == NULL)
        return -CN_ENOMEM;
    if (len < 16)
        memcpy(out, s, len + 1);
    free(s);
    return len < 16 ? 0 : -CN_EMALFORMED_XML;
}

int s3__xml_versioning(const char *xml, size_t n, char status[16], char mfa[16])
{
    xmlDocPtr doc;
    xmlNodePtr root;
    int err;

    status[0] = mfa[0] = '\0';
    err = parse_doc(xml, n, "VersioningConfiguration", &doc, &root);
    if (err < 0)
        return err;
    err = short_text(root, "Status", status);
    if (err == 0)
        err = short_text(root, "MfaDelete", mfa);
    xmlFreeDoc(doc);
    return err;
}

/* ---- AccessControlPolicy ---- */

/* Copies the element's text without surrounding whitespace (pretty-printed
 * bodies indent it); -CN_EMALFORMED_XML when longer than cap - 1. */
static int trimmed(xmlNodePtr n, char *out, size_t cap)
{
    size_t len = 0, lead = 0;
    char *s = text(n, &len);
    int err = 0;

    if (s == NULL)
        return -CN_ENOMEM;
    while (lead < len && strchr(" \t\r\n", s[lead]) != NULL)
        lead++;
    while (len > lead && strchr(" \t\r\n", s[len - 1]) != NULL)
        len--;
    if (len - lead >= cap)
        err = -CN_EMALFORMED_XML;
    else
        memcpy(out, s + lead, len - lead);
    if (err == 0)
        out[len - lead] = '\0';
    free(s);
    return err;
}

/* The grantee's type: xsi:type when given, else what its child implies. */
static int grantee_type(xmlNodePtr ge, s3_grant *g, xmlNodePtr *who)
{
    xmlChar *type = xmlGetProp(ge, (const xmlChar *)"type"); /* any namespace prefix */
    size_t i;
    static const struct {
        const char *child, *type;
    } kinds[] = {{"ID", "CanonicalUser"}, {"URI", "Group"}, {"EmailAddress", "AmazonCustomerByEmail"}};

    *who = NULL;
    for (i = 0; *who == NULL && i < CN_ARRAY_SIZE(kinds); i++) {
        *who = child(ge, kinds[i].child);
        if (*who != NULL)
            snprintf(g->type, sizeof(g->type), "%s", kinds[i].type);
    }
    if (type != NULL)
        snprintf(g->type, sizeof(g->type), "%s", (const char *)type);
    xmlFree(type);
    return *who != NULL ? 0 : -CN_EMALFORMED_XML;
}

static int one_grant(xmlNodePtr n, void *item)
{
    s3_grant *g = item;
    xmlNodePtr ge = child(n, "Grantee"), perm = child(n, "Permission"), who = NULL;
    int err = ge != NULL && perm != NULL ? grantee_type(ge, g, &who) : -CN_EMALFORMED_XML;

    if (err == 0)
        err = trimmed(perm, g->permission, sizeof(g->permission));
    if (err == 0)
        err = trimmed(who, g->who, sizeof(g->who));
    return err;
}

int s3__xml_acl(const char *xml, size_t n, s3_grant_list *out)
{
    xmlDocPtr doc;
    xmlNodePtr root, list;
    void *v = NULL;
    int err;

    memset(out, 0, sizeof(*out));
    err = parse_doc(xml, n, "AccessControlPolicy", &doc, &root);
    if (err < 0)
        return err;
    list = child(root, "AccessControlList");
    if (list == NULL)
        err = -CN_EMALFORMED_XML;
    else
        err = parse_items(list, "Grant", 0, S3_MAX_GRANTS, sizeof(*out->v), one_grant, &v, &out->n);
    out->v = v;
    xmlFreeDoc(doc);
    if (err < 0)
        s3__grant_list_dispose(out);
    return err;
}

void s3__grant_list_dispose(s3_grant_list *l)
{
    free(l->v);
    l->v = NULL;
    l->n = 0;
}
