using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using EventSourcedRegistry.Audit;

namespace EventSourcedRegistry.Rebuild;

/// <summary>
/// One model's audit rows and name keys as one SHA-256 digest, computed the same way from the fold (here) and from the
/// live rows (<see cref="LiveSql"/>, in PostgreSQL): a rebuild copies and compares a model's audit rows only when the two
/// differ. Every field is written as its UTF-8 length, a colon and its text, or <c>-</c> for null, so no two different
/// rows share an encoding; rows go in sequence order, name keys in byte order. Equal digests mean equal rows (SHA-256:
/// a tampered live row cannot be made to match the fold's).
/// </summary>
public static class AuditDigest
{
    /// <summary>The digest of what the fold made of one model.</summary>
    public static string Of(IEnumerable<AuditEntry> rows, IEnumerable<string> nameKeys)
    {
        var text = new StringBuilder();
        foreach (var row in rows.OrderBy(r => r.Sequence))
        {
            Field(text, row.Sequence.ToString(CultureInfo.InvariantCulture));
            Field(text, ((row.Timestamp.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) / 10).ToString(CultureInfo.InvariantCulture));
            Field(text, row.ModelId.ToString("D"));
            Field(text, row.ModelName);
            Field(text, row.Version?.ToString(CultureInfo.InvariantCulture));
            Field(text, row.EventType);
            Field(text, row.Actor);
            Field(text, row.Reason);
            Field(text, row.CorrelationId);
            Field(text, row.CausationId);
            Field(text, row.Summary);
        }
        text.Append('|');
        foreach (var key in nameKeys.Distinct(StringComparer.Ordinal).Select(Encoding.UTF8.GetBytes).Order(Utf8Order.Instance))
            Field(text, Encoding.UTF8.GetString(key));
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())));
    }

    private static void Field(StringBuilder text, string? value)
    {
        if (value is null)
        {
            text.Append('-');
            return;
        }
        text.Append(Encoding.UTF8.GetByteCount(value).ToString(CultureInfo.InvariantCulture)).Append(':').Append(value);
    }

    private static string SqlField(string expression) => $"coalesce(octet_length(({expression})::text)::text || ':' || ({expression})::text, '-')";

    /// <summary>
    /// The same digest of the live rows, per model of <c>$1</c> (uuid[]) in workspace <c>$2</c>, beside the model's stream
    /// version (<c>id, version, digest</c>): one statement, so the rows and the version are of one snapshot. Each model's
    /// rows are read by the tables' model indexes.
    /// </summary>
    public static string LiveSql(string streams) =>
        $"""
         select s.id, s.version, encode(sha256(convert_to(
           coalesce((select string_agg({string.Join(" || ", new[]
           {
               SqlField("l.seq_id"), SqlField("(extract(epoch from l.timestamp) * 1000000)::bigint"), SqlField("l.model_id"),
               SqlField("l.model_name"), SqlField("l.version"), SqlField("l.event_type"), SqlField("l.actor"), SqlField("l.reason"),
               SqlField("l.correlation_id"), SqlField("l.causation_id"), SqlField("l.summary"),
           })}, '' order by l.seq_id)
             from {AuditTrail.AuditLogTable} l where l.tenant_id = $2 and l.model_id = s.id), '')
           || '|' ||
           coalesce((select string_agg({SqlField("n.name_key")}, '' order by n.name_key collate "C")
             from (select distinct name_key from {AuditTrail.ModelNamesTable} where tenant_id = $2 and model_id = s.id) n), ''),
           'UTF8')), 'hex')
         from {streams} s where s.tenant_id = $2 and s.id = any($1)
         """;

    private sealed class Utf8Order : IComparer<byte[]>
    {
        public static readonly Utf8Order Instance = new();

        public int Compare(byte[]? x, byte[]? y) => x.AsSpan().SequenceCompareTo(y);
    }
}
