package io.qvirt.api.model;

import com.fasterxml.jackson.annotation.JsonInclude;

/** A virtio-rng device (no fields). Fields qvirt does not model are kept in {@link #getAdditionalProperties()}. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class Rng extends Extensible {

}
