package io.qvirt.api.model;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.List;

/** Downward API fields as a disk. Fields qvirt does not model are kept in {@link #getAdditionalProperties()}. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class DownwardAPIVolumeSource extends Extensible {
    private List<DownwardAPIVolumeFile> fields;

    private String volumeLabel;

    public List<DownwardAPIVolumeFile> getFields() {
        return fields;
    }

    public void setFields(List<DownwardAPIVolumeFile> fields) {
        this.fields = fields;
    }

    public String getVolumeLabel() {
        return volumeLabel;
    }

    public void setVolumeLabel(String volumeLabel) {
        this.volumeLabel = volumeLabel;
    }
}
