using System.Buffers;
using System.Globalization;
using System.IO.Pipelines;
using System.Text;
using System.Text.Json;
using EventSourcedRegistry.Audit;
using Npgsql;

namespace EventSourcedRegistry.Api.Audit;

/// <summary>
/// Streams the whole filtered audit log as NDJSON (one item per line, as in the JSON page) or CSV (a header
/// line, then one row per event). Rows go from PostgreSQL's result stream straight to the response body:
/// nothing is collected, and when the client reads slowly the pipe's back-pressure slows the query down.
/// NDJSON carries every value exactly as stored; CSV neutralises spreadsheet formulas in text cells (see <see cref="Csv"/>).
/// </summary>
public sealed class AuditExport(NpgsqlConnection connection, AuditQuery query, AuditProgress progress) : IResult
{
    private const int RowsPerFlush = 512;

    public static readonly string[] CsvColumns =
        ["sequence", "timestamp", "modelId", "modelName", "version", "eventType", "actor", "reason", "correlationId", "causationId", "summary"];

    public async Task ExecuteAsync(HttpContext http)
    {
        await using var owned = connection;
        var ct = http.RequestAborted;
        http.Response.StatusCode = StatusCodes.Status200OK;
        http.Response.ContentType = query.Format == AuditFormat.Csv ? "text/csv; charset=utf-8" : "application/x-ndjson; charset=utf-8";
        http.Response.Headers.CacheControl = "no-store";

        await using var command = query.Command(progress.AuditLogThrough, limit: null);
        command.Connection = connection;
        await using var reader = await command.ExecuteReaderAsync(ct);
        var pipe = http.Response.BodyWriter;
        if (query.Format == AuditFormat.Csv) await WriteCsv(reader, pipe, ct);
        else await WriteNdjson(reader, pipe, ct);
        await pipe.FlushAsync(ct);
    }

    private static async Task WriteNdjson(NpgsqlDataReader reader, PipeWriter pipe, CancellationToken ct)
    {
        await using var json = new Utf8JsonWriter(pipe, new JsonWriterOptions { SkipValidation = true });
        var rows = 0;
        while (await reader.ReadAsync(ct))
        {
            var e = AuditRows.Read(reader);
            json.WriteStartObject();
            json.WriteNumber("sequence", e.Sequence);
            json.WriteString("timestamp", e.Timestamp);
            json.WriteString("modelId", e.ModelId);
            WriteIfPresent(json, "modelName", e.ModelName);
            if (e.Version is { } version) json.WriteNumber("version", version);
            json.WriteString("eventType", e.EventType);
            WriteIfPresent(json, "actor", e.Actor);
            WriteIfPresent(json, "reason", e.Reason);
            WriteIfPresent(json, "correlationId", e.CorrelationId);
            WriteIfPresent(json, "causationId", e.CausationId);
            json.WriteString("summary", e.Summary);
            json.WriteEndObject();
            json.Flush();
            json.Reset();
            pipe.Write("\n"u8);
            if (++rows % RowsPerFlush == 0) await pipe.FlushAsync(ct);
        }
    }

    private static async Task WriteCsv(NpgsqlDataReader reader, PipeWriter pipe, CancellationToken ct)
    {
        var line = new StringBuilder(512);
        line.AppendJoin(',', CsvColumns).Append("\r\n");
        Write(pipe, line);
        var rows = 0;
        while (await reader.ReadAsync(ct))
        {
            var e = AuditRows.Read(reader);
            line.Clear();
            line.Append(e.Sequence.ToString(CultureInfo.InvariantCulture)).Append(',');
            line.Append(ChainLink.FormatTimestamp(e.Timestamp.UtcDateTime)).Append(',');
            line.Append(e.ModelId.ToString("D")).Append(',');
            Csv.Append(line, e.ModelName);
            line.Append(',');
            line.Append(e.Version?.ToString(CultureInfo.InvariantCulture)).Append(',');
            Csv.Append(line, e.EventType);
            line.Append(',');
            Csv.Append(line, e.Actor);
            line.Append(',');
            Csv.Append(line, e.Reason);
            line.Append(',');
            Csv.Append(line, e.CorrelationId);
            line.Append(',');
            Csv.Append(line, e.CausationId);
            line.Append(',');
            Csv.Append(line, e.Summary);
            line.Append("\r\n");
            Write(pipe, line);
            if (++rows % RowsPerFlush == 0) await pipe.FlushAsync(ct);
        }
    }

    private static void WriteIfPresent(Utf8JsonWriter json, string name, string? value)
    {
        if (value is not null) json.WriteString(name, value);
    }

    private static void Write(PipeWriter pipe, StringBuilder line)
    {
        var text = line.ToString();
        var span = pipe.GetSpan(Encoding.UTF8.GetMaxByteCount(text.Length));
        pipe.Advance(Encoding.UTF8.GetBytes(text, span));
    }
}

/// <summary>
/// Formats a CSV field per RFC 4180 (quoted only when it holds a comma, quote or line break, and also a semicolon or
/// tab, which spreadsheets in other locales or on import split cells at), with formulas
/// neutralised as OWASP advises: a text cell that starts with <c>=</c>, <c>+</c>, <c>-</c>, <c>@</c>, tab or CR is
/// what spreadsheet programs run as a formula when an auditor opens the export, so it gets a leading <c>'</c> and is
/// shown as text. A cell that already starts with <c>'</c>s before such a character gets one more, so the rule can be
/// undone exactly: strip one <c>'</c> from a cell that is <c>'</c>s followed by one of those characters.
/// </summary>
public static class Csv
{
    private static readonly SearchValues<char> FormulaStarts = SearchValues.Create("=+-@\t\r");
    // RFC 4180's comma, quote and line breaks, and the separators spreadsheets use in other locales or on import
    // (semicolon, tab): unquoted, "ok;=cmd()" is split there and its second cell starts a formula.
    private static readonly SearchValues<char> MustQuote = SearchValues.Create(",;\t\"\r\n");

    public static void Append(StringBuilder line, string? value)
    {
        if (value is null) return;
        if (StartsFormula(value)) value = "'" + value;
        if (value.AsSpan().IndexOfAny(MustQuote) < 0)
        {
            line.Append(value);
            return;
        }
        line.Append('"').Append(value.Replace("\"", "\"\"")).Append('"');
    }

    /// <summary>The value, after any leading <c>'</c>s, starts with a character a spreadsheet reads as the start of a formula.</summary>
    public static bool StartsFormula(string value)
    {
        var first = value.AsSpan().IndexOfAnyExcept('\'');
        return first >= 0 && FormulaStarts.Contains(value[first]);
    }
}
