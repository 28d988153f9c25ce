using System.Buffers;
using System.Globalization;
using System.Numerics;
using System.Text;
using System.Text.Json;

namespace EventSourcedRegistry.Audit;

/// <summary>
/// The JSON Canonicalization Scheme of RFC 8785 (JCS): object members sorted by their names' UTF-16 code
/// units, no whitespace, strings escaped minimally (only <c>"</c>, <c>\</c> and control characters; everything
/// else is literal UTF-8), numbers in the ECMAScript shortest round-trip form of an IEEE-754 double.
/// The hash chain hashes this form, so any conforming JCS implementation recomputes the same bytes.
/// </summary>
/// <remarks>
/// PostgreSQL's jsonb already normalises key order and whitespace, but in its own way (keys by length,
/// then bytes; a space after every colon and comma) and numbers keep their decimal text; hashing the
/// jsonb text would tie the chain to PostgreSQL's output format. JCS is a published, implementation-neutral form.
/// </remarks>
public static class CanonicalJson
{
    /// <summary>Canonical UTF-8 bytes of a JSON text.</summary>
    public static byte[] Canonicalize(string json)
    {
        using var document = JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = CanonicalInput.StoredMaxDepth });
        var buffer = new ArrayBufferWriter<byte>(json.Length + 16);
        Write(document.RootElement, buffer);
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Writes the canonical form of <paramref name="element"/>.</summary>
    public static void Write(JsonElement element, IBufferWriter<byte> output)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                var members = new List<(string Name, JsonElement Value)>();
                foreach (var property in element.EnumerateObject()) members.Add((property.Name, property.Value));
                members.Sort((a, b) => string.CompareOrdinal(a.Name, b.Name));
                WriteAscii(output, "{");
                for (var i = 0; i < members.Count; i++)
                {
                    if (i > 0) WriteAscii(output, ",");
                    WriteString(members[i].Name, output);
                    WriteAscii(output, ":");
                    Write(members[i].Value, output);
                }
                WriteAscii(output, "}");
                break;
            case JsonValueKind.Array:
                WriteAscii(output, "[");
                var first = true;
                foreach (var item in element.EnumerateArray())
                {
                    if (!first) WriteAscii(output, ",");
                    first = false;
                    Write(item, output);
                }
                WriteAscii(output, "]");
                break;
            case JsonValueKind.String:
                WriteString(element.GetString()!, output);
                break;
            case JsonValueKind.Number:
                WriteAscii(output, Number(element.GetRawText()));
                break;
            case JsonValueKind.True:
                WriteAscii(output, "true");
                break;
            case JsonValueKind.False:
                WriteAscii(output, "false");
                break;
            case JsonValueKind.Null:
                WriteAscii(output, "null");
                break;
            default:
                throw new ArgumentException($"Cannot canonicalise a JSON value of kind {element.ValueKind}.", nameof(element));
        }
    }

    private static readonly SearchValues<char> NeedsEscape = SearchValues.Create(
        "\"\\\u0000\u0001\u0002\u0003\u0004\u0005\u0006\u0007\u0008\u0009\u000a\u000b\u000c\u000d\u000e\u000f" +
        "\u0010\u0011\u0012\u0013\u0014\u0015\u0016\u0017\u0018\u0019\u001a\u001b\u001c\u001d\u001e\u001f");

    /// <summary>A JSON string literal with RFC 8785's escaping.</summary>
    public static void WriteString(string value, IBufferWriter<byte> output)
    {
        if (!value.AsSpan().ContainsAny(NeedsEscape))
        {
            // The common case: nothing to escape, the UTF-8 bytes go out as they are.
            var plain = output.GetSpan(Encoding.UTF8.GetMaxByteCount(value.Length) + 2);
            plain[0] = (byte)'"';
            var written = Encoding.UTF8.GetBytes(value, plain[1..]);
            plain[written + 1] = (byte)'"';
            output.Advance(written + 2);
            return;
        }
        var builder = new StringBuilder(value.Length + 2);
        builder.Append('"');
        foreach (var c in value)
        {
            switch (c)
            {
                case '"': builder.Append("\\\""); break;
                case '\\': builder.Append("\\\\"); break;
                case '\b': builder.Append("\\b"); break;
                case '\f': builder.Append("\\f"); break;
                case '\n': builder.Append("\\n"); break;
                case '\r': builder.Append("\\r"); break;
                case '\t': builder.Append("\\t"); break;
                default:
                    if (c < 0x20) builder.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                    else builder.Append(c);
                    break;
            }
        }
        builder.Append('"');
        var text = builder.ToString();
        var span = output.GetSpan(Encoding.UTF8.GetMaxByteCount(text.Length));
        output.Advance(Encoding.UTF8.GetBytes(text, span));
    }

    /// <summary>
    /// ECMAScript's Number.prototype.toString for the double nearest to the JSON number (RFC 8785 §3.2.2.3).
    /// Like every JCS implementation, integers beyond 2^53 lose precision here.
    /// </summary>
    /// <remarks>
    /// One extension to RFC 8785, which has no form for them: a number beyond the range of a double (only an event
    /// stored before the API refused such numbers can hold one) is written as its exact decimal value,
    /// <c>d[.ddd]e+n</c> (see <see cref="BeyondDouble"/>). These numbers used to stop the chain (nothing hashed them),
    /// so the extension changes no hash that was ever computed, and no double's form can collide with it.
    /// </remarks>
    public static string Number(string raw)
    {
        // Integers of up to 15 digits are exact doubles, and ECMAScript writes them digit for digit.
        var integer = raw.StartsWith('-') ? raw.AsSpan(1) : raw.AsSpan();
        if (integer.Length is > 0 and <= 15 && integer[0] != '0' && !integer.ContainsAnyExceptInRange('0', '9')) return raw;

        var value = double.Parse(raw, NumberStyles.Float, CultureInfo.InvariantCulture);
        if (double.IsInfinity(value)) return BeyondDouble(raw);
        if (value == 0) return "0";

        // .NET's "R" gives the shortest round-trip digits; only the layout differs from ECMAScript.
        var shortest = Math.Abs(value).ToString("R", CultureInfo.InvariantCulture);
        var exponentAt = shortest.IndexOfAny(['E', 'e']);
        var mantissa = exponentAt < 0 ? shortest : shortest[..exponentAt];
        var exponent = exponentAt < 0 ? 0 : int.Parse(shortest[(exponentAt + 1)..], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
        var point = mantissa.IndexOf('.');
        var digits = point < 0 ? mantissa : mantissa.Remove(point, 1);
        var pointPosition = point < 0 ? mantissa.Length : point;
        while (digits.Length > 1 && digits[0] == '0') { digits = digits[1..]; pointPosition--; }
        digits = digits.TrimEnd('0');

        var k = digits.Length;
        var n = pointPosition + exponent; // value = 0.d1d2…dk × 10^n
        string text;
        if (k <= n && n <= 21) text = digits + new string('0', n - k);
        else if (0 < n && n <= 21) text = digits[..n] + "." + digits[n..];
        else if (-6 < n && n <= 0) text = "0." + new string('0', -n) + digits;
        else
        {
            var e = n - 1;
            var sign = e < 0 ? "-" : "+";
            text = (k == 1 ? digits : digits[..1] + "." + digits[1..]) + "e" + sign + Math.Abs(e).ToString(CultureInfo.InvariantCulture);
        }
        return value < 0 ? "-" + text : text;
    }

    /// <summary>
    /// A number too large for a double, exactly: its significant digits d1…dk (no leading or trailing zeros) as
    /// <c>d1.d2…dk</c> (just <c>d1</c> when k = 1), then <c>e+</c> and the decimal exponent, with a leading <c>-</c>
    /// when negative; the layout ECMAScript uses for large doubles. <c>1e400</c>, <c>10E399</c> and PostgreSQL's
    /// <c>1000…0</c> (400 zeros) are all <c>1e+400</c>.
    /// </summary>
    public static string BeyondDouble(string raw)
    {
        var (negative, digits, point) = DecimalParts(raw);
        var exponent = point - 1;
        var text = (digits.Length == 1 ? digits : digits[..1] + "." + digits[1..]) + "e+" + exponent.ToString(CultureInfo.InvariantCulture);
        return negative ? "-" + text : text;
    }

    /// <summary>
    /// The exact value of a JSON number as 0.d1d2…dk × 10^point with d1 ≠ 0 and dk ≠ 0 (digits empty for zero).
    /// The exponent is a <see cref="BigInteger"/>: a JSON number's exponent has no bound.
    /// </summary>
    public static (bool Negative, string Digits, BigInteger Point) DecimalParts(ReadOnlySpan<char> number)
    {
        var negative = number.StartsWith("-");
        if (negative || number.StartsWith("+")) number = number[1..];
        var exponentAt = number.IndexOfAny('e', 'E');
        var exponent = BigInteger.Zero;
        if (exponentAt >= 0)
        {
            var text = number[(exponentAt + 1)..];
            var negativeExponent = text.StartsWith("-");
            if (negativeExponent || text.StartsWith("+")) text = text[1..];
            text = text.TrimStart('0');
            exponent = text.Length == 0 ? BigInteger.Zero
                : text.Length <= 18 ? long.Parse(text, NumberStyles.None, CultureInfo.InvariantCulture)
                : BigInteger.Parse(text, NumberStyles.None, CultureInfo.InvariantCulture);
            if (negativeExponent) exponent = -exponent;
            number = number[..exponentAt];
        }
        var pointAt = number.IndexOf('.');
        var integerDigits = pointAt < 0 ? number.Length : pointAt;
        var digits = pointAt < 0 ? number.ToString() : string.Concat(number[..pointAt], number[(pointAt + 1)..]);
        var leading = digits.Length - digits.TrimStart('0').Length;
        digits = digits.Trim('0');
        return digits.Length == 0 ? (negative, "", BigInteger.Zero) : (negative, digits, integerDigits - leading + exponent);
    }

    private static void WriteAscii(IBufferWriter<byte> output, string text)
    {
        var span = output.GetSpan(text.Length);
        for (var i = 0; i < text.Length; i++) span[i] = (byte)text[i];
        output.Advance(text.Length);
    }
}
