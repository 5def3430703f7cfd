package io.qvirt.api.model;

import com.fasterxml.jackson.annotation.JsonInclude;

/** A CDI DataVolume by name. Fields qvirt does not model are kept in {@link #getAdditionalProperties()}. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class DataVolumeSource extends Extensible {
    private String name;

    private Boolean hotpluggable;

    public String getName() {
        return name;
    }

    public void setName(String name) {
        this.name = name;
    }

    public Boolean getHotpluggable() {
        return hotpluggable;
    }

    public void setHotpluggable(Boolean hotpluggable) {
        this.hotpluggable = hotpluggable;
    }
}
