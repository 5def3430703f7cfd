package io.qvirt.api.instancetype;

import com.fasterxml.jackson.annotation.JsonInclude;
import io.qvirt.api.model.Extensible;

/** KubeVirt's {@code SpreadOptions}. Fields qvirt does not model are kept in {@link #getAdditionalProperties()}. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class SpreadOptions extends Extensible {
    /** SocketsCores (the default), CoresThreads or SocketsCoresThreads. */
    private String across;

    private Long ratio;

    public String getAcross() {
        return across;
    }

    public void setAcross(String across) {
        this.across = across;
    }

    public Long getRatio() {
        return ratio;
    }

    public void setRatio(Long ratio) {
        this.ratio = ratio;
    }
}
