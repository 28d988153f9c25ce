using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Unicode;

namespace EventSourcedRegistry.Audit;

/// <summary>What is wrong with a client's JSON, and where: <paramref name="Field"/> is a path such as <c>metadata.x</c>.</summary>
public sealed record InputProblem(string Field, string Detail);

/// <summary>
/// The bound the hash chain puts on what a client may send. Every event is hashed in its canonical form
/// (<see cref="CanonicalJson"/>, RFC 8785) and stored in PostgreSQL's jsonb, so client JSON is refused when either
/// cannot keep it exactly: a number a double cannot hold (past its range, rounded to zero, or with more precision
/// than it keeps), a string PostgreSQL cannot store (NUL) or that is not Unicode (an unpaired surrogate escape,
/// bytes that are not UTF-8), a member named twice in one object (I-JSON, RFC 7493; jsonb keeps only the last),
/// or nesting past <see cref="MaxDepth"/>. Every door checks a request body with <see cref="Check"/> before
/// reading it, so nothing the chain cannot express reaches an event.
/// </summary>
/// <remarks>
/// Hand-written because System.Text.Json accepts all of these into a <see cref="JsonElement"/> (numbers are kept as
/// text, escapes are decoded only when read) and reports the rest as a type error without naming the rule.
/// </remarks>
public static class CanonicalInput
{
    /// <summary>Deepest nesting a client may send (System.Text.Json's default).</summary>
    public const int MaxDepth = 64;

    /// <summary>
    /// Deepest nesting every reader and writer of stored JSON allows: Marten's serializer, the API's responses, the
    /// client and the hash chain. A value accepted at <see cref="MaxDepth"/> is later served inside wrappers (a
    /// version's metadata sits four levels down in a history page), so they need more room than the input, or a
    /// stored value would make every read of it fail for good. Far above any wrapper, far below a stack at risk.
    /// </summary>
    public const int StoredMaxDepth = 4 * MaxDepth;

    private const int MaxShown = 40;

    /// <summary>The first problem in <paramref name="utf8Json"/>, or null when the chain can record it exactly.</summary>
    public static InputProblem? Check(ReadOnlySpan<byte> utf8Json)
    {
        if (utf8Json.StartsWith(Encoding.UTF8.Preamble)) utf8Json = utf8Json[Encoding.UTF8.Preamble.Length..];
        if (!Utf8.IsValid(utf8Json))
            return new InputProblem("body", $"The request body is not valid UTF-8 (at byte {FirstInvalidByte(utf8Json)}); JSON is sent as UTF-8.");

        var reader = new Utf8JsonReader(utf8Json, new JsonReaderOptions { MaxDepth = MaxDepth + 1 });
        // One frame per open object or array: its path, the member names seen (objects) or the next index (arrays).
        var frames = new Stack<Frame>();
        string? member = null;
        try
        {
            while (reader.Read())
            {
                var path = frames.Count == 0 ? "" : frames.Peek().PathOfValue(member);
                switch (reader.TokenType)
                {
                    case JsonTokenType.StartObject:
                    case JsonTokenType.StartArray:
                        if (frames.Count >= MaxDepth)
                            return new InputProblem(Field(path), $"JSON is nested at most {MaxDepth} levels deep.");
                        frames.Push(new Frame(path, reader.TokenType == JsonTokenType.StartObject));
                        member = null;
                        break;
                    case JsonTokenType.EndObject:
                    case JsonTokenType.EndArray:
                        frames.Pop();
                        if (frames.Count > 0) frames.Peek().Advance();
                        member = null;
                        break;
                    case JsonTokenType.PropertyName:
                        if (!TryRead(ref reader, out var name))
                            return new InputProblem(Field(frames.Peek().Path), "A member name holds an unpaired UTF-16 surrogate escape; names and strings must be Unicode text.");
                        if (name.Contains('\0'))
                            return new InputProblem(Field(frames.Peek().Path), $"The member name '{Shown(name)}' holds a NUL character (\\u0000), which the registry cannot store.");
                        if (!frames.Peek().Names!.Add(name))
                            return new InputProblem(Field(frames.Peek().PathOfValue(name)), $"The member '{Shown(name)}' appears twice in one object; send each name once.");
                        member = name;
                        break;
                    case JsonTokenType.String:
                        if (!TryRead(ref reader, out var text))
                            return new InputProblem(Field(path), "The string holds an unpaired UTF-16 surrogate escape (\\ud800–\\udfff without its pair); strings must be Unicode text.");
                        if (TextProblem(text) is { } textProblem)
                            return new InputProblem(Field(path), $"The string {textProblem}.");
                        Next(frames, ref member);
                        break;
                    case JsonTokenType.Number:
                        if (NumberProblem(Encoding.UTF8.GetString(reader.ValueSpan)) is { } problem)
                            return new InputProblem(Field(path), problem);
                        Next(frames, ref member);
                        break;
                    default:
                        Next(frames, ref member);
                        break;
                }
            }
        }
        catch (JsonException ex)
        {
            return new InputProblem("body", $"The request body is not valid JSON: {ex.Message.Split(" LineNumber:")[0].TrimEnd('.', ' ')}.");
        }
        return null;
    }

    /// <summary>
    /// Why PostgreSQL cannot keep <paramref name="text"/> as text, as a phrase ("holds a NUL character …"), or null:
    /// a NUL, which text and jsonb refuse, or an unpaired UTF-16 surrogate, which is not Unicode and has no UTF-8 form.
    /// Every string a client sends is checked with it: JSON strings here, query, route and header values at the HTTP door.
    /// </summary>
    public static string? TextProblem(string text)
    {
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (c == '\0') return "holds a NUL character (\\u0000), which the registry cannot store";
            if (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1])) i++;
            else if (char.IsSurrogate(c)) return $"holds an unpaired UTF-16 surrogate (\\u{(int)c:x4}), which is not Unicode text";
        }
        return null;
    }

    /// <summary>
    /// Why a JSON number cannot be recorded exactly, or null: it must be a finite double whose shortest form has
    /// the same value (<c>0.1</c>, <c>4.50</c>, <c>1e300</c>, <c>-0</c> and 2^53 are fine; <c>1e400</c>, <c>1e-400</c>
    /// and <c>9007199254740993</c> are not).
    /// </summary>
    public static string? NumberProblem(string raw)
    {
        var value = double.Parse(raw, NumberStyles.Float, CultureInfo.InvariantCulture);
        if (double.IsInfinity(value))
            return $"The number {Shown(raw)} is outside the range of an IEEE-754 double (±1.7976931348623157e308), which the hash chain's " +
                   "canonical form (RFC 8785) cannot hold; send it as a string.";
        if (value == 0)
            return IsZero(raw) ? null : $"The number {Shown(raw)} is too small for an IEEE-754 double: it would be recorded as 0; send it as a string.";
        var exact = CanonicalJson.DecimalParts(raw);
        var held = CanonicalJson.DecimalParts(value.ToString("R", CultureInfo.InvariantCulture));
        if (exact.Digits != held.Digits || exact.Point != held.Point)
            return $"The number {Shown(raw)} has more precision than an IEEE-754 double keeps: the hash chain would record it as " +
                   $"{CanonicalJson.Number(raw)}; send at most 17 significant digits, or a string.";
        return null;
    }

    /// <summary>Zero whatever its exponent: no digit but 0 before the exponent.</summary>
    private static bool IsZero(string raw)
    {
        var mantissa = raw.AsSpan();
        if (mantissa.IndexOfAny('e', 'E') is var e and >= 0) mantissa = mantissa[..e];
        return !mantissa.ContainsAnyInRange('1', '9');
    }

    private static bool TryRead(ref Utf8JsonReader reader, out string value)
    {
        try
        {
            value = reader.GetString()!;
            return true;
        }
        catch (InvalidOperationException)
        {
            // System.Text.Json refuses to decode an unpaired surrogate escape (the bytes themselves were checked as UTF-8).
            value = "";
            return false;
        }
    }

    private static void Next(Stack<Frame> frames, ref string? member)
    {
        if (frames.Count > 0) frames.Peek().Advance();
        member = null;
    }

    private static string Field(string path) => path.Length == 0 ? "body" : path;

    private static int FirstInvalidByte(ReadOnlySpan<byte> bytes)
    {
        var index = 0;
        while (index < bytes.Length && Rune.DecodeFromUtf8(bytes[index..], out _, out var consumed) == System.Buffers.OperationStatus.Done)
            index += consumed;
        return index;
    }

    private static string Shown(string value)
    {
        var clipped = value.Length > MaxShown ? value[..MaxShown] + "…" : value;
        var builder = new StringBuilder(clipped.Length);
        foreach (var c in clipped) builder.Append(char.IsControl(c) ? $"\\u{(int)c:x4}" : c.ToString());
        return builder.ToString();
    }

    private sealed class Frame(string path, bool isObject)
    {
        private int _index;

        public string Path { get; } = path;
        public HashSet<string>? Names { get; } = isObject ? new HashSet<string>(StringComparer.Ordinal) : null;

        public string PathOfValue(string? member) =>
            Names is null ? $"{Path}[{_index}]"
            : member is null ? Path
            : IsPlain(member) ? (Path.Length == 0 ? member : Path + "." + member)
            : $"{Path}['{Shown(member).Replace("'", "\\'")}']";

        public void Advance() => _index++;

        private static bool IsPlain(string member) =>
            member.Length is > 0 and <= MaxShown && member.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-' or '$');
    }
}
