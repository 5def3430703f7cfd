package io.qvirt.api.model;

import com.fasterxml.jackson.annotation.JsonInclude;

/** A binding method with no fields of its own ({@code masquerade: {}}, {@code bridge: {}}, ...). Fields qvirt does not model are kept in {@link #getAdditionalProperties()}. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class BindingMethod extends Extensible {

}
