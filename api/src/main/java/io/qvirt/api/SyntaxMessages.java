package io.qvirt.api;

import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Says what is wrong with a manifest's YAML or JSON syntax, and what is allowed there, in qvirt's words: the
 * parsers' own problem texts ({@code expected <block end>, but found '<block mapping start>'},
 * {@code Unexpected character ('}' (code 125)): was expecting double-quote to start field name}) name their
 * tokens, events and classes, which a user cannot act on. Each known problem is rewritten; an unknown one
 * gets a plain sentence, never the parser's text (issue 22).
 */
final class SyntaxMessages {
    /** SnakeYAML's token names, as a user would say them. */
    private static final Map<String, String> YAML_TOKENS = Map.ofEntries(
            Map.entry("<block mapping start>", "a new 'key: value' block"),
            Map.entry("<block sequence start>", "a new list ('- ' item)"),
            Map.entry("<block end>", "the end of an indented block"),
            Map.entry("<stream end>", "the end of the input"),
            Map.entry("<stream start>", "the start of the input"),
            Map.entry("<document start>", "a document start ('---')"),
            Map.entry("<document end>", "a document end ('...')"),
            Map.entry("<scalar>", "a value"),
            Map.entry("<alias>", "an alias ('*name')"),
            Map.entry("<anchor>", "an anchor ('&name')"),
            Map.entry("<tag>", "a tag ('!name')"),
            Map.entry("<directive>", "a directive ('%...')"),
            Map.entry("<flow mapping start>", "'{'"),
            Map.entry("<flow mapping end>", "'}'"),
            Map.entry("<flow sequence start>", "'['"),
            Map.entry("<flow sequence end>", "']'"),
            Map.entry("<block entry>", "a list item ('- ')"),
            Map.entry("<flow entry>", "','"),
            Map.entry("<key>", "a key ('? ')"),
            Map.entry("<value>", "':'"));

    private static final Pattern YAML_EXPECTED_FOUND = Pattern.compile(
            "expected (.+?), but (?:found|got):? ?(.*)", Pattern.DOTALL);
    /** The scanner's way of naming a character: {@code {(123)}, {@code  (32)}. */
    private static final Pattern SCANNER_CHAR = Pattern.compile("(.)\\((\\d+)\\)", Pattern.DOTALL);
    private static final Pattern JSON_CHAR = Pattern.compile(
            "Unexpected character \\((?:'(.*?)' \\(code (\\d+)[^)]*\\)|\\(CTRL-CHAR, code (\\d+)\\))\\)", Pattern.DOTALL);
    private static final Pattern JSON_TOKEN = Pattern.compile("Unrecognized token '(.*?)'", Pattern.DOTALL);
    private static final Pattern JSON_CLOSE = Pattern.compile("Unexpected close marker '(.)'(?:: expected '(.)')?");
    private static final Pattern CODE = Pattern.compile("code (\\d+)");

    private SyntaxMessages() {
    }

    /** What a YAML parser problem means ({@code problem}, {@code context} as SnakeYAML gives them; either may be null). */
    static String yaml(String problem, String context) {
        String p = problem == null ? "" : problem.strip();
        String c = context == null ? "" : context.strip();
        if (p.isEmpty()) {
            p = c;
        }
        if (p.startsWith("mapping values are not allowed")) {
            return "a ':' (key: value) is not allowed here: check the indentation of this line against the line above, "
                    + "and quote a value that holds ': '";
        }
        if (p.startsWith("could not find expected ':'")) {
            return "expected 'key: value', found no ':' (a key without its ':', or a quote or bracket left open on "
                    + "the line before)";
        }
        if (p.startsWith("mapping keys are not allowed")) {
            return "a '? ' key is not allowed here: write 'key: value'";
        }
        if (p.startsWith("sequence entries are not allowed") || p.startsWith("block sequence entries are not allowed")) {
            return "a list item ('- ') is not allowed here: indent it under its key, at the same column as the "
                    + "other items";
        }
        if (p.startsWith("special characters are not allowed")) {
            return "a character YAML does not allow in a file (a control character, or U+FFFE/U+FFFF): remove it, "
                    + "or write it as an escape inside a double-quoted string";
        }
        if (p.startsWith("found unexpected end of stream")) {
            return "the input ends inside a quoted string: its closing quote is missing";
        }
        if (p.startsWith("found unexpected document separator") || p.startsWith("found unexpected ':'")) {
            return "'---' or ':' inside a quoted string that is not closed: close the quote first";
        }
        if (p.startsWith("found character")) {
            if (p.contains("TAB")) {
                return "a tab character: YAML indents with spaces only";
            }
            return "the character " + quoteChar(between(p, "found character '", "' that")) + " cannot start a value "
                    + "or a key: quote the value (\"...\") if it is text";
        }
        if (p.startsWith("found a tab character")) {
            return "a tab character in indentation: YAML indents with spaces only";
        }
        if (p.startsWith("found unknown escape character") || p.startsWith("expected escape sequence")) {
            return "an escape YAML does not know in a double-quoted string: allowed are \\\\, \\\", \\n, \\t, \\r, "
                    + "\\0, \\xXX, \\uXXXX and \\UXXXXXXXX (or use single quotes, where \\ is a plain character)";
        }
        if (p.startsWith("found undefined tag handle") || c.contains("while scanning a tag")
                || c.contains("while parsing a node") && p.contains("tag")) {
            return "a tag ('!name') YAML does not know here: leave it out (KubeVirt manifests use no tags)";
        }
        if (c.contains("while scanning a block scalar")) {
            return "after '|' or '>' only '+' or '-', an indentation digit 1-9, a comment or the end of the line may "
                    + "follow" + found(p);
        }
        if (c.contains("while scanning an anchor") || c.contains("while scanning an alias")
                || p.startsWith("unexpected character found")) {
            return "an anchor ('&name') or alias ('*name') needs a name of letters, digits, '-' or '_'" + found(p);
        }
        if (c.contains("while scanning a directive") || c.contains("while scanning a %")
                || p.startsWith("found incompatible YAML document") || p.contains("directive")) {
            return "a '%' directive YAML does not take here: only '%YAML 1.1' or '%YAML 1.2' and '%TAG', at the "
                    + "start of a document (quote a value that starts with '%')";
        }
        if (p.startsWith("found duplicate anchor")) {
            return "an anchor ('&name') defined twice in this document: rename one";
        }
        Matcher m = YAML_EXPECTED_FOUND.matcher(p);
        if (m.matches()) {
            String expected = m.group(1);
            String foundWhat = yamlToken(m.group(2));
            if (expected.equals("<block end>")) {
                return "found " + foundWhat + " where this block ends: check the indentation of this line against the "
                        + "lines above (keys of one mapping, and items of one list, start at the same column)";
            }
            if (expected.startsWith("the node content")) {
                return "expected a value, found " + foundWhat;
            }
            if (expected.equals("',' or ']'")) {
                return "in a '[...]' list: expected ',' or ']', found " + foundWhat;
            }
            if (expected.equals("',' or '}'")) {
                return "in a '{...}' mapping: expected ',' or '}', found " + foundWhat;
            }
            if (expected.equals("'<document start>'") || expected.equals("<document start>")) {
                return "expected a new document ('---') or the end of the input, found " + foundWhat
                        + ": check the indentation of this line";
            }
            if (expected.equals("URI")) {
                return "a tag ('!name') YAML does not know here: leave it out (KubeVirt manifests use no tags)";
            }
            return "expected " + yamlToken(expected) + ", found " + foundWhat;
        }
        return "not valid YAML here: check the indentation, quotes and brackets of this line and of the line "
                + "before";
    }

    /** What Jackson's YAML layer reports on top of SnakeYAML's events (keys that are not plain values). */
    static String yamlLayer(String message) {
        String m = message == null ? "" : message;
        if (m.startsWith("Expected a field name")) {
            if (m.contains("AliasEvent")) {
                return "an alias ('*name') cannot be a key: write the key itself";
            }
            return "a key must be plain text, not a mapping or a list";
        }
        if (m.contains("base64") || m.contains("Base64") || m.contains("baseN")) {
            return "a '!!binary' value that is not valid base64: leave the tag out for text";
        }
        return "not valid YAML here: check the indentation, quotes and brackets of this line and of the line "
                + "before";
    }

    /** What a JSON parser problem means (Jackson's message without its location). */
    static String json(String message) {
        String m = message == null ? "" : message;
        String found = jsonFound(m);
        if (m.contains("was expecting comma to separate Object entries")) {
            return "in a mapping: expected ',' or '}' after a value, found " + found;
        }
        if (m.contains("was expecting comma to separate Array entries")) {
            return "in a list: expected ',' or ']' after an item, found " + found;
        }
        if (m.contains("was expecting a colon")) {
            return "expected ':' after a key, found " + found;
        }
        if (m.contains("was expecting double-quote to start field name")) {
            return "expected a key in double quotes (\"name\") or '}', found " + found;
        }
        if (m.contains("maybe a (non-standard) comment")) {
            return "JSON has no comments: found " + found;
        }
        if (m.contains("in numeric value")) {
            return "not a number: a digit must follow '-', '.' and the exponent 'e', found " + found;
        }
        if (m.contains("Leading zeroes not allowed")) {
            return "a number must not start with 0 (write 7, not 07; quote it if it is text)";
        }
        if (m.startsWith("Non-standard token")) {
            return "NaN and Infinity are not JSON numbers";
        }
        if (m.contains("hex-digit") || m.startsWith("Unrecognized character escape")
                || m.contains("in character escape sequence")) {
            return m.startsWith("Unexpected end-of-input") ? "the input ends inside an escape in a string"
                    : "an escape JSON does not know in a string: allowed are \\\", \\\\, \\/, \\b, \\f, \\n, \\r, \\t "
                    + "and \\uXXXX";
        }
        if (m.startsWith("Illegal unquoted character")) {
            return "a control character (code " + code(m) + ") inside a string: write it as an escape (\\n, \\t, "
                    + "\\uXXXX)";
        }
        if (m.startsWith("Illegal character")) {
            return "a control character (code " + code(m) + ") between values: only spaces, tabs and line breaks "
                    + "may stand there";
        }
        if (m.startsWith("Unexpected end-of-input")) {
            if (m.contains("closing quote")) {
                return "the input ends inside a string: its closing '\"' is missing";
            }
            if (m.contains("field name")) {
                return "the input ends inside a key: its closing '\"' is missing";
            }
            if (m.contains("Array")) {
                return "the input ends inside a list: ']' is missing";
            }
            return "the input ends inside a mapping: '}' is missing";
        }
        Matcher close = JSON_CLOSE.matcher(m);
        if (close.find()) {
            String got = close.group(1);
            if (close.group(2) != null) {
                return "found '" + got + "' where '" + close.group(2) + "' must close the "
                        + ("]".equals(close.group(2)) ? "list" : "mapping") + " first";
            }
            return "found '" + got + "' with no open '" + ("]".equals(got) ? "[" : "{") + "' to close";
        }
        if (m.contains("expected a valid value") || m.contains("expected a value") || m.startsWith("Unrecognized token")) {
            return "expected a value (a string in double quotes, a number, true, false, null, '{' or '['), found "
                    + found;
        }
        return "not valid JSON here: expected a value, ',', ':', '}' or ']' as JSON allows";
    }

    /** The character or token a Jackson message names as found. */
    private static String jsonFound(String m) {
        Matcher c = JSON_CHAR.matcher(m);
        if (c.find()) {
            return c.group(1) != null ? quoteChar(c.group(1)) : "a control character (code " + c.group(3) + ")";
        }
        Matcher t = JSON_TOKEN.matcher(m);
        if (t.find()) {
            String token = t.group(1);
            return "'" + (token.length() > 40 ? token.substring(0, 40) + "..." : token) + "'";
        }
        return "something else";
    }

    private static String code(String m) {
        Matcher c = CODE.matcher(m);
        return c.find() ? c.group(1) : "?";
    }

    /** ", found X" for a scanner problem naming the character found, else "". */
    private static String found(String p) {
        int at = p.lastIndexOf("found");
        if (at < 0) {
            return "";
        }
        String rest = p.substring(at + "found".length()).replaceFirst("^:? ", "");
        Matcher c = SCANNER_CHAR.matcher(rest);
        if (c.lookingAt()) {
            return ", found " + describeCode(Integer.parseInt(c.group(2)));
        }
        return rest.isEmpty() ? "" : ", found " + yamlToken(rest);
    }

    /** A SnakeYAML token name or quoted character, as a user would say it. */
    private static String yamlToken(String s) {
        String t = s.strip();
        if (t.length() >= 2 && t.startsWith("'") && t.endsWith("'")) {
            t = t.substring(1, t.length() - 1);
        }
        String known = YAML_TOKENS.get(t);
        if (known != null) {
            return known;
        }
        if (t.equals("<stream end>") || t.isEmpty()) {
            return "the end of the input";
        }
        Matcher c = SCANNER_CHAR.matcher(t);
        if (c.matches()) {
            return describeCode(Integer.parseInt(c.group(2)));
        }
        if (t.startsWith("<")) {
            return "something else";
        }
        return quoteChar(t);
    }

    private static String describeCode(int code) {
        if (code == ' ') {
            return "a space";
        }
        if (code < 0x20 || code == 0x7f) {
            return "a control character (code " + code + ")";
        }
        return quoteChar(new String(Character.toChars(code)));
    }

    private static String quoteChar(String s) {
        if (s == null || s.isEmpty()) {
            return "something else";
        }
        if (s.length() == 1 && (s.charAt(0) < 0x20 || s.charAt(0) == 0x7f)) {
            return "a control character (code " + (int) s.charAt(0) + ")";
        }
        if (s.startsWith("\\t")) {
            return "a tab";
        }
        return "'" + (s.length() > 40 ? s.substring(0, 40) + "..." : s) + "'";
    }

    private static String between(String s, String from, String to) {
        int a = s.indexOf(from);
        if (a < 0) {
            return "";
        }
        a += from.length();
        int b = s.indexOf(to, a);
        return b < 0 ? s.substring(a) : s.substring(a, b);
    }
}
