package io.qvirt.api;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.exc.InputCoercionException;
import com.fasterxml.jackson.databind.JavaType;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.introspect.BeanPropertyDefinition;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.Quantity;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.regex.Pattern;

/**
 * Turns what the parser and the binder throw into qvirt's words: a field path, what is there and what is
 * allowed. No library class name or wording reaches the user.
 */
final class Messages {
    /** Words that only a library or the JVM would write. */
    private static final Pattern LIBRARY = Pattern.compile(
            "com\\.fasterxml|org\\.yaml|io\\.fabric8|io\\.qvirt|java\\.|javax\\.|jackson|snakeyaml|Exception|"
                    + "`|Cannot coerce|Cannot construct|Cannot deserialize|Creator|CoercionConfig|\\[Source|"
                    + "StreamReadConstraints|MapperFeature|DeserializationFeature|JsonNode|POJO",
            Pattern.CASE_INSENSITIVE);

    private Messages() {
    }

    /** True if {@code text} carries a library's wording; used by {@link #clean} and by the tests. */
    static boolean leaksLibrary(String text) {
        return text != null && LIBRARY.matcher(text).find();
    }

    /** A parser's message as it is when it speaks of YAML or JSON only, else a plain one. */
    static String clean(String message) {
        if (message == null || message.isBlank()) {
            return "not valid";
        }
        String m = message.strip();
        int nl = m.indexOf('\n');
        if (nl > 0) {
            m = m.substring(0, nl);
        }
        if (m.length() > 200) {
            m = m.substring(0, 200) + "...";
        }
        return leaksLibrary(m) ? "not valid here" : m;
    }

    /**
     * The message for a value the binder would not take: {@code spec.domain.cpu.cores: expected an integer,
     * found a string "many"}. {@code root} is the document's tree, to say what was found.
     */
    static String binding(JsonProcessingException e, JsonNode root, ObjectMapper mapper, Class<?> rootType) {
        String path = e instanceof JsonMappingException jm ? ManifestLoader.path(jm) : "";
        if (path.isEmpty() && e.getProcessor() instanceof JsonParser p && p.getParsingContext() != null) {
            path = pointerPath(p.getParsingContext().pathAsPointer().toString());
        }
        Class<?> target = null;
        for (Throwable t = e; t != null && target == null; t = t.getCause()) {
            if (t instanceof MismatchedInputException mi) {
                target = mi.getTargetType();
            } else if (t instanceof InputCoercionException ic) {
                target = ic.getTargetType();
            }
        }
        if (target == null) {
            target = typeAt(mapper, rootType, path);
        }
        JsonNode found = at(root, path);
        StringBuilder sb = new StringBuilder();
        if (!path.isEmpty()) {
            sb.append(path).append(": ");
        }
        if (target != null) {
            sb.append("expected ").append(expected(target));
            if (found != null) {
                sb.append(", found ").append(describe(found));
            }
            if (Number.class.isAssignableFrom(boxed(target)) && found != null && found.isIntegralNumber()) {
                sb.append(" (out of range)");
            }
        } else {
            sb.append("invalid value");
            if (found != null) {
                sb.append(" ").append(describe(found));
            }
        }
        return sb.toString();
    }

    private static Class<?> boxed(Class<?> c) {
        if (c == int.class) {
            return Integer.class;
        }
        if (c == long.class) {
            return Long.class;
        }
        return c;
    }

    /**
     * The Java type the model gives the field at {@code path} (bean properties, list and map contents), or
     * null where the model does not say.
     */
    static Class<?> typeAt(ObjectMapper mapper, Class<?> rootType, String path) {
        JavaType t = mapper.constructType(rootType);
        List<String> parts = new ArrayList<>();
        java.util.regex.Matcher m = Pattern.compile("\\[\\d+\\]|[^.\\[]+").matcher(path);
        while (m.find()) {
            parts.add(m.group());
        }
        try {
            for (String part : parts) {
                if (t == null) {
                    return null;
                }
                if (t.isContainerType()) {
                    t = t.getContentType();
                } else if (part.startsWith("[")) {
                    return null;
                } else {
                    JavaType next = null;
                    for (BeanPropertyDefinition d : mapper.getDeserializationConfig().introspect(t).findProperties()) {
                        if (d.getName().equals(part)) {
                            next = d.getPrimaryType();
                            break;
                        }
                    }
                    t = next;
                }
            }
        } catch (RuntimeException ex) {
            return null;
        }
        return t == null ? null : t.getRawClass();
    }

    /** What a Java type means to a manifest author. */
    static String expected(Class<?> type) {
        Class<?> t = boxed(type);
        if (t == Integer.class || t == Long.class || t == Short.class || t == Byte.class || t == BigInteger.class) {
            return "an integer";
        }
        if (t == Double.class || t == Float.class || t == BigDecimal.class || t == double.class || t == float.class) {
            return "a number";
        }
        if (t == Boolean.class || t == boolean.class) {
            return "true or false";
        }
        if (t == String.class || CharSequence.class.isAssignableFrom(t) || t == char.class || t == Character.class) {
            return "a string";
        }
        if (Collection.class.isAssignableFrom(t) || t.isArray()) {
            return "a list";
        }
        if (t == Quantity.class) {
            return "a quantity such as 128Mi, 1Gi or 500m";
        }
        if (t == IntOrString.class) {
            return "an integer or a string";
        }
        if (t.isEnum()) {
            List<String> names = new ArrayList<>();
            Arrays.stream(t.getEnumConstants()).forEach(c -> names.add(String.valueOf(c)));
            return "one of " + String.join(", ", names);
        }
        if (t == Object.class) {
            return "a value";
        }
        return "a mapping";
    }

    /** What a value in the manifest is, for messages: {@code a string "x"}, {@code a list}, ... */
    static String describe(JsonNode n) {
        if (n.isTextual()) {
            String s = n.asText();
            return s.isEmpty() ? "an empty string" : "a string \"" + shorten(s) + "\"";
        }
        if (n.isBoolean()) {
            return n.asText();
        }
        if (n.isNumber()) {
            return "the number " + shorten(n.asText());
        }
        if (n.isArray()) {
            return "a list";
        }
        if (n.isObject()) {
            return "a mapping";
        }
        if (n.isNull()) {
            return "null";
        }
        return "a value of another type";
    }

    private static String shorten(String s) {
        String one = s.replaceAll("[\\p{Cntrl}]", "?");
        return one.length() > 60 ? one.substring(0, 60) + "..." : one;
    }

    /** The node at {@code spec.domain.disks[1].name}, or null. */
    static JsonNode at(JsonNode root, String path) {
        JsonNode n = root;
        if (path.isEmpty()) {
            return n;
        }
        int i = 0;
        while (n != null && i < path.length()) {
            char c = path.charAt(i);
            if (c == '.') {
                i++;
            } else if (c == '[') {
                int end = path.indexOf(']', i);
                if (end < 0) {
                    return null;
                }
                try {
                    n = n.get(Integer.parseInt(path.substring(i + 1, end)));
                } catch (NumberFormatException e) {
                    return null;
                }
                i = end + 1;
            } else {
                int end = i;
                while (end < path.length() && path.charAt(end) != '.' && path.charAt(end) != '[') {
                    end++;
                }
                n = n.get(path.substring(i, end));
                i = end;
            }
        }
        return n;
    }

    /** {@code /spec/domain/disks/1} as {@code spec.domain.disks[1]}. */
    static String pointerPath(String pointer) {
        List<String> parts = new ArrayList<>();
        for (String s : pointer.split("/")) {
            if (s.isEmpty()) {
                continue;
            }
            String p = s.replace("~1", "/").replace("~0", "~");
            parts.add(p.chars().allMatch(Character::isDigit) ? "[" + p + "]" : p);
        }
        return ManifestLoader.render(parts);
    }
}
