using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using EventSourcedRegistry.Audit;

namespace EventSourcedRegistry.Tests.Audit;

/// <summary>
/// Existing chains and signed checkpoints must keep verifying, so the canonical form may only ever be extended to
/// values it could not write before (it threw on them), never changed for a value it wrote. The pinned digests
/// below were computed with the canonical form as it was before any extension (the release whose projection
/// stalled on <c>1e400</c>); each covers thousands of generated cases, so a change to any one of them shows.
/// </summary>
public class when_keeping_the_canonical_form_stable
{
    [Fact]
    public void every_number_a_double_holds_is_written_as_before()
    {
        var spellings = NumberSpellings().ToArray();

        Assert.Equal(PinnedNumberCases, spellings.Length);
        Assert.Equal(PinnedNumbers, Digest(spellings.Select(s => s + "=" + CanonicalJson.Number(s))));
    }

    [Fact]
    public void every_document_is_written_as_before()
    {
        var documents = Documents().ToArray();

        Assert.Equal(PinnedDocumentCases, documents.Length);
        Assert.Equal(PinnedDocuments, Digest(documents.Select(d => Encoding.UTF8.GetString(CanonicalJson.Canonicalize(d)))));
    }

    [Fact]
    public void every_chain_link_is_computed_as_before()
    {
        var previous = ChainLink.Genesis;
        var sequence = 0L;
        foreach (var data in Documents().Where(d => d.StartsWith('{')).Take(500))
        {
            sequence += 1 + sequence % 3;
            var stored = new StoredEvent(sequence, GuidFor(sequence, 1), GuidFor(sequence, 2), sequence % 7 + 1, "model_version_registered",
                data, new DateTime(2026, 3, 3, 14, 0, 0, DateTimeKind.Utc).AddTicks(sequence * 12_345_670),
                sequence % 5 == 0 ? null : "key:pipeline", $"corr-{sequence}", sequence % 2 == 0 ? null : $"0HN7:{sequence:x8}",
                sequence % 3 == 0 ? null : $$"""{"reason": "release {{sequence}} \u00e9\u2028"}""");
            previous = ChainLink.Next(previous, stored);
        }

        Assert.Equal(PinnedChainHead, Convert.ToHexStringLower(previous));
    }

    /// <summary>
    /// The RFC 8785 examples and this project's own canonical-form cases, pinned one by one: the digest of each
    /// canonical form before the extension.
    /// </summary>
    [Theory]
    [InlineData("""{"numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001], "string": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/", "literals": [null, true, false]}""",
        """{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"€$\u000f\nA'B\"\\\\\"/"}""")]
    [InlineData("""{"name": "caf\u00e9", "tags": {"b": "2", "a": "1"}, "version": 2}""", """{"name":"café","tags":{"a":"1","b":"2"},"version":2}""")]
    [InlineData("\"a\\u001Fb\\tc\\u2028d\\/\\u00e9\"", "\"a\\u001fb\\tc\u2028d/é\"")]
    [InlineData("[0, -0, 1.0, -1.5, 0.1, 123.456e3, 1e20, 1e21, 123456789012345678901, 0.000001, 1e-7, 5e-324, 1.7976931348623157e308, 9007199254740993, 1e-400]",
        "[0,0,1,-1.5,0.1,123456,100000000000000000000,1e+21,123456789012345680000,0.000001,1e-7,5e-324,1.7976931348623157e+308,9007199254740992,0]")]
    public void the_documented_cases_are_written_as_before(string json, string canonical) =>
        Assert.Equal(canonical, Encoding.UTF8.GetString(CanonicalJson.Canonicalize(json)));

    private const int PinnedNumberCases = 7429;
    private const string PinnedNumbers = "281f7d5e164b6e2ec637e96a6b1146046bd22cf719ea119d41e842605ac88ffe";
    private const int PinnedDocumentCases = 2000;
    private const string PinnedDocuments = "3929278ad8f8ac949209af51dd61dacc1a97733ae1d147a2c51ded5df9e40fe4";
    private const string PinnedChainHead = "4bf58201360b7c5247fd5ac29a1820760580404b622c86a05822e1b9fc802d8f";

    private static string Digest(IEnumerable<string> lines) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(string.Join("\n", lines))));

    private static Guid GuidFor(long sequence, int salt) =>
        new(SHA256.HashData(Encoding.ASCII.GetBytes($"{salt}:{sequence}")).AsSpan(0, 16));

    /// <summary>Numbers as clients and PostgreSQL's jsonb spell them, all within the range of a double.</summary>
    private static IEnumerable<string> NumberSpellings()
    {
        var random = new Random(20260303);
        var bytes = new byte[8];
        for (var i = 0; i < 3000; i++)
        {
            random.NextBytes(bytes);
            var value = BitConverter.ToDouble(bytes);
            if (!double.IsFinite(value)) continue;
            yield return value.ToString("R", CultureInfo.InvariantCulture);
            yield return value.ToString("E20", CultureInfo.InvariantCulture);
            // jsonb writes numerics without an exponent.
            if (Math.Abs(value) is > 1e-20 and < 1e27) yield return new decimal(Math.Round(value, 10)).ToString(CultureInfo.InvariantCulture);
        }
        for (var digits = 1; digits <= 40; digits++)
        {
            for (var j = 0; j < 5; j++)
            {
                var integer = (char)('1' + random.Next(9)) + string.Concat(Enumerable.Range(1, digits - 1).Select(_ => (char)('0' + random.Next(10))));
                yield return integer;
                yield return "-" + integer;
                yield return integer + "." + string.Concat(Enumerable.Range(0, random.Next(1, 25)).Select(_ => (char)('0' + random.Next(10))));
                yield return "0." + new string('0', random.Next(0, 30)) + integer;
                yield return integer + "e" + random.Next(-320, 300 - digits).ToString(CultureInfo.InvariantCulture);
                yield return integer + "E+" + random.Next(0, 300 - digits).ToString(CultureInfo.InvariantCulture);
            }
        }
        // Subnormals, the largest double and what still rounds to it, and what rounds to zero.
        yield return "5e-324";
        yield return "2.4703282292062328e-324";
        yield return "1e-400";
        yield return "-1e-400";
        yield return "0." + new string('0', 400) + "1";
        yield return "1.7976931348623157e308";
        yield return "-1.7976931348623157e308";
        yield return "1.7976931348623158e308";
        yield return "179769313486231570000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000";
        yield return "0";
        yield return "-0";
        yield return "0.0";
        yield return "0e10";
        yield return "-0.000";
    }

    /// <summary>Generated documents: objects, arrays, strings with every kind of character JCS treats specially, numbers.</summary>
    private static IEnumerable<string> Documents()
    {
        var random = new Random(8785);
        for (var i = 0; i < 2000; i++)
        {
            var buffer = new System.Buffers.ArrayBufferWriter<byte>();
            using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
                WriteValue(writer, random, depth: 0, forceObject: i % 2 == 0);
            yield return Encoding.UTF8.GetString(buffer.WrittenSpan);
        }
    }

    private static readonly string[] Alphabet =
    [
        "a", "b", "Z", "0", "9", " ", "_", "-", ".", "\"", "\\", "/", "\n", "\r", "\t", "\b", "\f", "\u0000", "\u0001", "\u001f", "\u007f",
        "\u0080", "é", "ö", "€", "\u2028", "\u2029", "\u200b", "\u200f", "\u202e", "\ufeff", "\ufb33", "😀", "𝄞", "中", "ß", "=", "+", "@",
    ];

    private static string RandomString(Random random)
    {
        var builder = new StringBuilder();
        for (var i = random.Next(0, 12); i > 0; i--) builder.Append(Alphabet[random.Next(Alphabet.Length)]);
        return builder.ToString();
    }

    private static void WriteValue(Utf8JsonWriter writer, Random random, int depth, bool forceObject = false)
    {
        var kind = forceObject ? 0 : random.Next(depth > 4 ? 2 : 0, 8);
        switch (kind)
        {
            case 0:
                writer.WriteStartObject();
                var names = new HashSet<string>(StringComparer.Ordinal);
                for (var i = random.Next(0, 6); i > 0; i--)
                {
                    var name = RandomString(random);
                    if (!names.Add(name)) continue;
                    writer.WritePropertyName(name);
                    WriteValue(writer, random, depth + 1);
                }
                writer.WriteEndObject();
                break;
            case 1:
                writer.WriteStartArray();
                for (var i = random.Next(0, 5); i > 0; i--) WriteValue(writer, random, depth + 1);
                writer.WriteEndArray();
                break;
            case 2:
            case 3:
                writer.WriteStringValue(RandomString(random));
                break;
            case 4:
                writer.WriteNumberValue(random.NextDouble() * Math.Pow(10, random.Next(-30, 30)) * (random.Next(2) == 0 ? -1 : 1));
                break;
            case 5:
                writer.WriteNumberValue(random.NextInt64(long.MinValue, long.MaxValue) >> random.Next(0, 60));
                break;
            case 6:
                writer.WriteBooleanValue(random.Next(2) == 0);
                break;
            default:
                writer.WriteNullValue();
                break;
        }
    }
}
