package io.qvirt.api.model;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Editing a status' condition list as KubeVirt's writers do, for every component that writes one (controller,
 * handler): a condition is replaced by type, and one whose status, reason and message are unchanged keeps its
 * old transition time, so a writer that recomputes an unchanged list writes nothing.
 */
public final class Conditions {
    private Conditions() {
    }

    /** {@code conds} with {@code c} in place of the condition of its type (appended if there is none). */
    public static List<Condition> with(List<Condition> conds, Condition c) {
        List<Condition> out = new ArrayList<>();
        boolean replaced = false;
        for (Condition old : conds) {
            if (old.getType().equals(c.getType())) {
                boolean same = Objects.equals(old.getStatus(), c.getStatus()) && Objects.equals(old.getReason(), c.getReason())
                        && Objects.equals(old.getMessage(), c.getMessage());
                out.add(same ? old : c);
                replaced = true;
            } else {
                out.add(old);
            }
        }
        if (!replaced) {
            out.add(c);
        }
        return out;
    }

    /** {@code conds} without the condition of {@code type}. */
    public static List<Condition> without(List<Condition> conds, String type) {
        List<Condition> out = new ArrayList<>(conds);
        out.removeIf(c -> type.equals(c.getType()));
        return out;
    }
}
