package io.qvirt.api;

import io.fabric8.kubernetes.api.model.Quantity;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.math.RoundingMode;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Kubernetes quantities read exactly as Kubernetes reads them ({@code resource.ParseQuantity} and
 * {@code Quantity.Value()}): {@code 64M} is 64,000,000 bytes, {@code 64Mi} is 67,108,864, {@code 1e3} is
 * 1000, {@code 1.5Gi} is 1,610,612,736, and a fraction rounds up ({@code 100m} is 1, as
 * {@code Value()} rounds towards positive infinity).
 *
 * <p>The grammar is Kubernetes': {@code [+-]number[suffix]}, number {@code digits[.digits]} or
 * {@code .digits}, suffix one of {@code Ki Mi Gi Ti Pi Ei}, {@code m k M G T P E} or an exponent
 * {@code e<int>}/{@code E<int>}. No spaces, no {@code B}, no {@code KB}.
 */
public final class Quantities {
    private static final Pattern QUANTITY = Pattern.compile(
            "([+-]?(?:[0-9]+(?:\\.[0-9]*)?|\\.[0-9]+))([eE][+-]?[0-9]+|Ki|Mi|Gi|Ti|Pi|Ei|m|k|M|G|T|P|E)?");

    private Quantities() {
    }

    /** Longest quantity text read (Kubernetes' own quantities are far shorter). */
    static final int MAX_LENGTH = 64;
    /** Largest exponent magnitude of an {@code e<int>} suffix read; beyond it a value is out of any range. */
    static final int MAX_EXPONENT = 1000;

    /** True if {@code text} is a quantity Kubernetes accepts (at most 64 characters, exponent within +-1000). */
    public static boolean isValid(String text) {
        if (text == null || text.length() > MAX_LENGTH) {
            return false;
        }
        Matcher m = QUANTITY.matcher(text);
        if (!m.matches()) {
            return false;
        }
        String suffix = m.group(2);
        if (suffix != null && suffix.matches("[eE][+-]?[0-9]+")) {
            String digits = suffix.substring(1).replaceFirst("^[+-]", "").replaceFirst("^0+(?=.)", "");
            return digits.length() <= 4 && Integer.parseInt(digits) <= MAX_EXPONENT;
        }
        return true;
    }

    /**
     * True if the quantity is valid and its value ({@link #value(String)}, and in milli-units) fits a signed
     * 64-bit integer, as every quantity qvirt uses must.
     */
    public static boolean inRange(String text) {
        if (!isValid(text)) {
            return false;
        }
        BigDecimal milli = exact(text).movePointRight(3);
        return magnitudeDigits(milli) <= 18;
    }

    /** Digits before the decimal point (negative for values below 0.1); 0 for zero. */
    private static long magnitudeDigits(BigDecimal d) {
        return d.signum() == 0 ? 0 : (long) d.precision() - d.scale();
    }

    /** {@code d} rounded up to an integer, saturated to the range of a long; never slow, whatever the exponent. */
    private static long ceilSaturated(BigDecimal d) {
        long digits = magnitudeDigits(d);
        if (digits > 19) {
            return d.signum() > 0 ? Long.MAX_VALUE : Long.MIN_VALUE;
        }
        if (digits < -2) {
            return d.signum() > 0 ? 1 : 0;
        }
        BigInteger i = d.setScale(0, RoundingMode.CEILING).toBigInteger();
        if (i.bitLength() > 63) {
            return i.signum() > 0 ? Long.MAX_VALUE : Long.MIN_VALUE;
        }
        return i.longValue();
    }

    /**
     * The exact value of a quantity as a decimal ({@code 100m} is 0.1).
     *
     * @throws IllegalArgumentException if Kubernetes would not accept the text
     */
    public static BigDecimal exact(String text) {
        if (text == null) {
            throw new IllegalArgumentException("quantity is empty");
        }
        Matcher m = QUANTITY.matcher(text);
        if (!isValid(text) || !m.matches()) {
            throw new IllegalArgumentException("quantities must match the regular expression "
                    + "'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'");
        }
        BigDecimal number = new BigDecimal(m.group(1).startsWith("+") ? m.group(1).substring(1) : m.group(1));
        String suffix = m.group(2) == null ? "" : m.group(2);
        return number.multiply(multiplier(suffix));
    }

    private static BigDecimal multiplier(String suffix) {
        switch (suffix) {
            case "":
                return BigDecimal.ONE;
            case "m":
                return new BigDecimal("0.001");
            case "k":
                return BigDecimal.TEN.pow(3);
            case "M":
                return BigDecimal.TEN.pow(6);
            case "G":
                return BigDecimal.TEN.pow(9);
            case "T":
                return BigDecimal.TEN.pow(12);
            case "P":
                return BigDecimal.TEN.pow(15);
            case "E":
                return BigDecimal.TEN.pow(18);
            case "Ki":
                return new BigDecimal(BigInteger.TWO.pow(10));
            case "Mi":
                return new BigDecimal(BigInteger.TWO.pow(20));
            case "Gi":
                return new BigDecimal(BigInteger.TWO.pow(30));
            case "Ti":
                return new BigDecimal(BigInteger.TWO.pow(40));
            case "Pi":
                return new BigDecimal(BigInteger.TWO.pow(50));
            case "Ei":
                return new BigDecimal(BigInteger.TWO.pow(60));
            default: // e<int> / E<int>
                return BigDecimal.ONE.scaleByPowerOfTen(Integer.parseInt(suffix.substring(1)));
        }
    }

    /** The text of a quantity as written ({@code amount + format}), or null. */
    public static String text(Quantity q) {
        if (q == null) {
            return null;
        }
        String amount = q.getAmount() == null ? "" : q.getAmount();
        String format = q.getFormat() == null ? "" : q.getFormat();
        return amount + format;
    }

    /** True if {@code q} is present and a valid quantity. */
    public static boolean isValid(Quantity q) {
        return q != null && isValid(text(q));
    }

    /**
     * The integer value as Kubernetes' {@code Quantity.Value()} gives it: the exact value rounded up; a value
     * beyond a long is {@link Long#MAX_VALUE} (or {@link Long#MIN_VALUE}), see {@link #inRange(String)}.
     *
     * @throws IllegalArgumentException if the quantity is not valid
     */
    public static long value(String text) {
        return ceilSaturated(exact(text));
    }

    /** {@link #value(String)} of a fabric8 quantity; null counts as 0, as an absent Kubernetes quantity. */
    public static long value(Quantity q) {
        return q == null ? 0 : value(text(q));
    }

    /** Bytes of a memory or capacity quantity: {@code 64M} is 64,000,000, {@code 64Mi} is 67,108,864. */
    public static long bytes(Quantity q) {
        return value(q);
    }

    /** Bytes of a memory or capacity quantity given as text. */
    public static long bytes(String text) {
        return value(text);
    }

    /** Milli-units, as Kubernetes' {@code MilliValue()} ({@code 500m} CPU is 500, {@code 2} is 2000). */
    public static long milliValue(Quantity q) {
        return q == null ? 0 : ceilSaturated(exact(text(q)).movePointRight(3));
    }
}
