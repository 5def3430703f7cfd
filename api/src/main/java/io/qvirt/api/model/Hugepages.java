package io.qvirt.api.model;

import com.fasterxml.jackson.annotation.JsonInclude;

/** Hugepages backing. Fields qvirt does not model are kept in {@link #getAdditionalProperties()}. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class Hugepages extends Extensible {
    /** {@code 2Mi} or {@code 1Gi}. */
    private String pageSize;

    public String getPageSize() {
        return pageSize;
    }

    public void setPageSize(String pageSize) {
        this.pageSize = pageSize;
    }
}
