package io.qvirt.launcher.image;

/**
 * A content descriptor of the OCI image spec: what a manifest says about a blob.
 *
 * @param mediaType e.g. {@code application/vnd.oci.image.layer.v1.tar+gzip}
 * @param digest    {@code sha256:<64 hex>}
 * @param size      bytes
 */
public record Descriptor(String mediaType, String digest, long size) {
    /** The 64 hex digits of the digest. */
    public String hex() {
        return digest.substring("sha256:".length());
    }
}
