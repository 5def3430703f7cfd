package io.qvirt.api;

import com.fasterxml.jackson.databind.BeanDescription;
import com.fasterxml.jackson.databind.JavaType;
import com.fasterxml.jackson.databind.introspect.BeanPropertyDefinition;
import io.qvirt.api.model.Extensible;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The fields of a bean tree that qvirt's model does not type: every key kept in an {@link Extensible}'s
 * {@link Extensible#getAdditionalProperties()}, by JSON path, at every level. Once {@link StrictFields} has refused
 * what is in no schema, these are KubeVirt fields qvirt has no typed place for; a consumer refuses those it does not
 * act on, so none is dropped silently.
 */
public final class UnmodelledFields {
    private UnmodelledFields() {
    }

    /** @return paths such as {@code spec.domain.cpu.features}, in document order */
    public static List<String> of(Extensible root, String prefix) {
        List<String> out = new ArrayList<>();
        walk(root, prefix, out, 0);
        return out;
    }

    private static void walk(Object o, String path, List<String> out, int depth) {
        if (!(o instanceof Extensible e) || depth > 40) {
            return;
        }
        for (String key : e.getAdditionalProperties().keySet()) {
            out.add(path + "." + key);
        }
        JavaType type = KubevirtJson.json().constructType(o.getClass());
        BeanDescription bean = KubevirtJson.json().getSerializationConfig().introspect(type);
        for (BeanPropertyDefinition p : bean.findProperties()) {
            if (!p.hasGetter()) {
                continue;
            }
            Object v;
            try {
                v = p.getGetter().getValue(o);
            } catch (RuntimeException ex) {
                continue;
            }
            String at = path + "." + p.getName();
            if (v instanceof Extensible) {
                walk(v, at, out, depth + 1);
            } else if (v instanceof List<?> list) {
                for (int i = 0; i < list.size(); i++) {
                    walk(list.get(i), at + "[" + i + "]", out, depth + 1);
                }
            } else if (v instanceof Map<?, ?> map) {
                for (Map.Entry<?, ?> m : map.entrySet()) {
                    walk(m.getValue(), at + "." + m.getKey(), out, depth + 1);
                }
            }
        }
    }
}
