using System.Buffers;
using System.Text.Json;
using EventSourcedRegistry.Api.Infrastructure;
using EventSourcedRegistry.Models;
using EventSourcedRegistry.Validation;
using Marten;
using Npgsql;

namespace EventSourcedRegistry.Api.Models.Reading;

/// <summary>
/// The current model view answered from its stored JSON, without building a <see cref="ModelView"/>: the view of a long
/// history lists every version it ever had, and deserializing it only to serialize it again is work that grows with it.
/// </summary>
/// <remarks>
/// <para>The stored JSON (Marten's System.Text.Json, camelCase) and the wire's (<see cref="Json.Options"/>) name every member
/// alike but differ in what they leave out: the store writes null members, the wire omits them. The stored form stays as
/// it is (changing the store's serializer would change every document and event it writes, and events are a contract);
/// the answer is the stored text with members cut out or added, one pass of <see cref="Utf8JsonReader"/> whose kept
/// values are copied as they are:</para>
/// <list type="bullet">
/// <item>a member a view of today does not have (a view written by an older build may keep one since removed) is cut, as
/// deserialization dropped it; one it lacks is added with today's default (deserialization gave it), unless that default
/// is null;</item>
/// <item>null members are cut at the top (<c>WhenWritingNull</c>), and <c>deleted: false</c> (<c>WhenWritingDefault</c>);</item>
/// <item>in the pending requests, null members are cut at every depth: they hold strings, numbers, flags and dates, never
/// client JSON. The metadata schema is client JSON, whose own nulls are content: it is copied whole;</item>
/// <item>the versions by stage are stored as runs (<see cref="VersionRuns"/>) and written out one number per version.</item>
/// </list>
/// <para>Not kept is the spelling: PostgreSQL's jsonb text orders members by key length, spaces its separators and escapes
/// only what JSON requires. Parsed, the answer equals the serialized view (when_reading_a_model). Doing the same in SQL
/// (<c>jsonb_each</c>/<c>jsonb_object_agg</c>) was measured first: it cost PostgreSQL about a millisecond per read of the
/// 10,000-event model's view, more than the round trip through a <see cref="ModelView"/> it replaced.</para>
/// </remarks>
public static class StoredModelView
{
    /// <summary>
    /// The row's version (<see cref="ModelViewAnswers"/>: its <c>xmin</c> and Marten's last-modified time), and its JSON unless
    /// that version is the copy's ($3; empty when there is none).
    /// </summary>
    private const string Sql =
        "select v.version, case when v.version = $3 then null else d.data::text end " +
        $"from {RegistryTables.ModelView} as d " +
        "cross join lateral (select d.xmin::text || '/' || coalesce(d.mt_last_modified::text, '') as version) as v " +
        "where d.tenant_id = $1 and d.normalized_name = $2";

    private static readonly Member[] Members = Describe();
    private static readonly int Revision = Array.FindIndex(Members, m => m.Name == "revision");
    private static readonly int Deleted = Array.FindIndex(Members, m => m.Name == "deleted");
    private static readonly int PendingRequests = Array.FindIndex(Members, m => m.Name == "pendingRequests");
    private static readonly int VersionsByStage = Array.FindIndex(Members, m => m.Name == "versionsByStage");

    /// <summary>A member of the view on the wire, and the text a view without it in the store is answered with (null: none).</summary>
    private sealed record Member(string Name, byte[] Utf8Name, byte[]? Default);

    private static Member[] Describe()
    {
        using var defaults = JsonDocument.Parse(JsonSerializer.SerializeToUtf8Bytes(new ModelView(), Json.Options));
        return [.. Json.Options.GetTypeInfo(typeof(ModelView)).Properties.Select(p => new Member(p.Name,
            System.Text.Encoding.UTF8.GetBytes(p.Name),
            defaults.RootElement.TryGetProperty(p.Name, out var value)
                ? System.Text.Encoding.UTF8.GetBytes($"{JsonSerializer.Serialize(p.Name)}:{value.GetRawText()}")
                : null))];
    }

    /// <summary>
    /// Writes the view (200, its revision as ETag) and answers true; false, writing nothing, when there is no such model.
    /// Answered from this node's copy when the stored row is still the one the copy was made from (see <see cref="ModelViewAnswers"/>).
    /// </summary>
    public static async Task<bool> WriteAsync(IQuerySession session, string name, HttpContext http, ModelViewAnswers answers)
    {
        var ct = http.RequestAborted;
        var normalized = InputRules.NormalizeName(name);
        var copy = answers.Find(session.TenantId, normalized);
        ModelViewAnswers.Answer answer;
        await using (var command = new NpgsqlCommand(Sql))
        {
            command.Parameters.Add(new NpgsqlParameter { Value = session.TenantId });
            command.Parameters.Add(new NpgsqlParameter { Value = normalized });
            command.Parameters.Add(new NpgsqlParameter { Value = copy?.RowVersion ?? "" });
            await using var reader = await session.ExecuteReaderAsync(command, ct);
            if (!await reader.ReadAsync(ct)) return false;
            var rowVersion = reader.GetString(0);
            if (await reader.IsDBNullAsync(1, ct) && copy is not null && copy.RowVersion == rowVersion)
            {
                answer = copy;
            }
            else
            {
                answer = await Reshaped(reader, rowVersion, ct);
                answers.Keep(session.TenantId, normalized, answer);
            }
        }
        Revisions.Write(http.Response, answer.Revision);
        http.Response.StatusCode = StatusCodes.Status200OK;
        http.Response.ContentType = "application/json; charset=utf-8";
        await http.Response.Body.WriteAsync(answer.Json, ct);
        return true;
    }

    private static async Task<ModelViewAnswers.Answer> Reshaped(System.Data.Common.DbDataReader reader, string rowVersion, CancellationToken ct)
    {
        await using var column = reader.GetStream(1);
        var length = (int)column.Length;
        var stored = ArrayPool<byte>.Shared.Rent(length);
        try
        {
            await column.ReadExactlyAsync(stored.AsMemory(0, length), ct);
            var json = new ArrayBufferWriter<byte>(length + 256);
            var revision = Reshape(stored.AsSpan(0, length), json);
            return new ModelViewAnswers.Answer(rowVersion, json.WrittenSpan.ToArray(), revision);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(stored);
        }
    }

    /// <summary>Writes the stored view as the wire means it (see the remarks); answers its revision.</summary>
    public static long Reshape(ReadOnlySpan<byte> stored, IBufferWriter<byte> output)
    {
        var reader = new Utf8JsonReader(stored, new JsonReaderOptions { MaxDepth = EventSourcedRegistry.Audit.CanonicalInput.StoredMaxDepth });
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject) throw new JsonException("A stored model view is not a JSON object.");
        Span<bool> present = stackalloc bool[Members.Length];
        long revision = 0;
        var first = true;
        output.Write("{"u8);
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var start = (int)reader.TokenStartIndex;
            var member = Find(ref reader);
            reader.Read();
            var type = reader.TokenType;
            if (member == Revision && type == JsonTokenType.Number && reader.TryGetInt64(out var stated)) revision = stated;
            if (member < 0 || type == JsonTokenType.Null || (member == Deleted && type == JsonTokenType.False))
            {
                reader.Skip();
                continue;
            }
            present[member] = true;
            if (!first) output.Write(","u8);
            first = false;
            if (member == PendingRequests)
            {
                output.Write(stored[start..(int)reader.TokenStartIndex]);
                WithoutNullMembers(ref reader, stored, output);
            }
            else if (member == VersionsByStage && type == JsonTokenType.StartObject)
            {
                output.Write(stored[start..(int)reader.TokenStartIndex]);
                WithRunsExpanded(ref reader, stored, output);
            }
            else
            {
                reader.Skip();
                output.Write(stored[start..(int)reader.BytesConsumed]);
            }
        }
        for (var i = 0; i < Members.Length; i++)
        {
            if (present[i] || Members[i].Default is not { } missing) continue;
            if (!first) output.Write(","u8);
            first = false;
            output.Write(missing);
        }
        output.Write("}"u8);
        return revision;
    }

    private static int Find(ref Utf8JsonReader reader)
    {
        for (var i = 0; i < Members.Length; i++)
            if (reader.ValueTextEquals(Members[i].Utf8Name)) return i;
        return -1;
    }

    /// <summary>
    /// Copies the versions by stage the reader is on (its object's start) with every run of versions written out: the store
    /// keeps runs (<see cref="VersionRuns"/>; views written before them hold plain numbers, copied as they are), the wire
    /// lists every version.
    /// </summary>
    private static void WithRunsExpanded(ref Utf8JsonReader reader, ReadOnlySpan<byte> stored, IBufferWriter<byte> output)
    {
        output.Write("{"u8);
        var firstStage = true;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var start = (int)reader.TokenStartIndex;
            reader.Read();
            if (reader.TokenType != JsonTokenType.StartArray) throw new JsonException("A stored stage's versions are not an array.");
            if (!firstStage) output.Write(","u8);
            firstStage = false;
            output.Write(stored[start..(int)reader.TokenStartIndex]);
            output.Write("["u8);
            var first = true;
            void Number(IBufferWriter<byte> output, int version)
            {
                if (!first) output.Write(","u8);
                first = false;
                var digits = output.GetSpan(11);
                System.Buffers.Text.Utf8Formatter.TryFormat(version, digits, out var written);
                output.Advance(written);
            }
            while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
            {
                // A lone version as it is (no counting loop: one at int.MaxValue would never end it); a run as ReadRun checks it.
                if (reader.TokenType == JsonTokenType.Number)
                {
                    Number(output, reader.GetInt32());
                    continue;
                }
                var (from, to) = VersionRuns.ReadRun(ref reader);
                for (var v = from; v <= to; v++) Number(output, v);
            }
            output.Write("]"u8);
        }
        output.Write("}"u8);
    }

    /// <summary>Copies the value the reader is on, leaving out every object member whose value is null (array items stay).</summary>
    private static void WithoutNullMembers(ref Utf8JsonReader reader, ReadOnlySpan<byte> stored, IBufferWriter<byte> output)
    {
        switch (reader.TokenType)
        {
            case JsonTokenType.StartObject:
            {
                output.Write("{"u8);
                var first = true;
                while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                {
                    var start = (int)reader.TokenStartIndex;
                    reader.Read();
                    if (reader.TokenType == JsonTokenType.Null) continue;
                    if (!first) output.Write(","u8);
                    first = false;
                    output.Write(stored[start..(int)reader.TokenStartIndex]);
                    WithoutNullMembers(ref reader, stored, output);
                }
                output.Write("}"u8);
                break;
            }
            case JsonTokenType.StartArray:
            {
                output.Write("["u8);
                var first = true;
                while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
                {
                    if (!first) output.Write(","u8);
                    first = false;
                    WithoutNullMembers(ref reader, stored, output);
                }
                output.Write("]"u8);
                break;
            }
            default:
                output.Write(stored[(int)reader.TokenStartIndex..(int)reader.BytesConsumed]);
                break;
        }
    }
}
