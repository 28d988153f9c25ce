using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace EventSourcedRegistry.Api.Webhooks;

/// <summary>
/// The signature on every delivery: <c>Registry-Signature: t=&lt;unix seconds&gt;,v1=&lt;hex HMAC-SHA256&gt;</c>, the HMAC keyed
/// with the subscription's secret (its UTF-8 bytes, as shown) over <c>"&lt;t&gt;.&lt;body&gt;"</c>. The timestamp is signed so a
/// receiver can refuse an old delivery replayed by whoever recorded it (docs/integration.md: a 5-minute window).
/// </summary>
public static class WebhookSignature
{
    public const string Header = "Registry-Signature";
    public const string DeliveryHeader = "Registry-Delivery";
    public const string SecretPrefix = "whsec_";
    public static readonly TimeSpan ReplayWindow = TimeSpan.FromMinutes(5);

    /// <summary>A new secret: 32 random bytes, base64url, with a prefix that says what it is.</summary>
    public static string NewSecret() => SecretPrefix + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    public static string Sign(string secret, long unixSeconds, ReadOnlySpan<byte> body)
    {
        var prefix = Encoding.UTF8.GetBytes(unixSeconds.ToString(CultureInfo.InvariantCulture) + ".");
        var signed = new byte[prefix.Length + body.Length];
        prefix.CopyTo(signed, 0);
        body.CopyTo(signed.AsSpan(prefix.Length));
        var mac = HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), signed);
        return $"t={unixSeconds.ToString(CultureInfo.InvariantCulture)},v1={Convert.ToHexStringLower(mac)}";
    }

    /// <summary>
    /// What a receiver does (and the tests do, as docs/integration.md shows): the header's timestamp within the window of
    /// <paramref name="now"/>, and one of its <c>v1</c> values equal, in constant time, to the HMAC over the body as received.
    /// </summary>
    public static bool Verify(string secret, string? header, ReadOnlySpan<byte> body, DateTimeOffset now)
    {
        if (string.IsNullOrEmpty(header)) return false;
        long? timestamp = null;
        var candidates = new List<string>();
        foreach (var part in header.Split(','))
        {
            var pair = part.Split('=', 2);
            if (pair.Length != 2) continue;
            if (pair[0] == "t" && long.TryParse(pair[1], NumberStyles.None, CultureInfo.InvariantCulture, out var t)) timestamp = t;
            else if (pair[0] == "v1") candidates.Add(pair[1]);
        }
        if (timestamp is not { } seconds) return false;
        if ((now - DateTimeOffset.FromUnixTimeSeconds(seconds)).Duration() > ReplayWindow) return false;
        var expected = Encoding.ASCII.GetBytes(Sign(secret, seconds, body).Split("v1=")[1]);
        return candidates.Any(c => CryptographicOperations.FixedTimeEquals(expected, Encoding.ASCII.GetBytes(c)));
    }
}
