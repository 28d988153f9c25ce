using System.Buffers;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using EventSourcedRegistry.Api.Infrastructure;
using EventSourcedRegistry.Approvals;
using EventSourcedRegistry.Models;

namespace EventSourcedRegistry.Tests.Models;

/// <summary>
/// <see cref="StoredJson"/>: the stored view's jsonb text, rewritten, is byte for byte what deserializing it and
/// serializing the object with the wire's options writes (what <c>GET /models/{name}</c> answered before).
/// </summary>
public class when_rewriting_a_stored_model_view_for_the_wire
{
    // As the store writes documents (RegistryStore: camelCase, enums as strings, nulls kept).
    private static readonly JsonSerializerOptions Stored = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        Converters = { new JsonStringEnumConverter() },
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        MaxDepth = Json.Options.MaxDepth,
    };

    [Fact]
    public void a_full_view_spelled_as_jsonb_rewrites_to_the_object_round_trips_bytes()
    {
        var view = new ModelView
        {
            Id = Guid.Parse("0b6f7d2c-44a4-4c8e-9b1f-1d2e3f405162"),
            Name = "Churn <&> modèle",
            NormalizedName = "churn <&> modèle",
            Description = "line one\nline \"two\" 🚀",
            Tags = new() { ["zeta"] = "z", ["team"] = "ml", ["a"] = "'quoted'" },
            DeletedVersions = [3],
            MetadataSchema = JsonDocument.Parse("""{"type":"object","properties":{"auc":{"type":"number","minimum":0.5,"enum":[null,1]}}}""").RootElement,
            LatestVersion = 4,
            VersionsByStage = new(StringComparer.Ordinal) { ["Production"] = [1], ["Archived"] = [2, 4] },
            Aliases = new(StringComparer.Ordinal) { ["champion"] = 1 },
            Deployments = new(StringComparer.Ordinal) { ["prod/eu-1"] = 1 },
            PendingRequests =
            [
                new TransitionRequest
                {
                    Id = Guid.Parse("9f0e1d2c-3b4a-4596-8877-665544332211"), Kind = "stage", VersionNumber = 2, Target = "Production",
                    Sha256 = new string('a', 64), RequestedBy = "alice", Reason = null, RequestedAt = DateTimeOffset.Parse("2026-12-06T09:03:00.1234567+00:00"),
                    Approvals = [new Approval("bob", new string('a', 64), DateTimeOffset.Parse("2026-12-06T10:00:00Z"), "ok")],
                },
            ],
            Revision = 42,
        };

        AssertRewritesLikeTheRoundTrip(view);
        AssertRewritesLikeTheRoundTrip(new ModelView { Id = Guid.NewGuid(), Name = "fresh", NormalizedName = "fresh", Revision = 1 });
    }

    [Fact]
    public void a_stored_view_missing_a_member_the_store_always_writes_takes_the_slow_path()
    {
        var node = JsonNode.Parse(JsonSerializer.Serialize(new ModelView { Name = "m", Revision = 1 }, Stored))!.AsObject();
        node.Remove("versionsByStage");

        Assert.False(StoredJson.TryWriteWire(Encoding.UTF8.GetBytes(Jsonb(node)), typeof(ModelView), Json.Options, new ArrayBufferWriter<byte>()));
    }

    [Fact]
    public void the_revision_is_read_from_the_top_level_only()
    {
        var stored = Encoding.UTF8.GetBytes("""{"pendingRequests": [{"revision": 7}], "revision": 42}""");

        Assert.Equal(42, StoredJson.TopLevelInt64(stored, "revision"));
        Assert.Null(StoredJson.TopLevelInt64("""{"name": "m"}"""u8, "revision"));
    }

    private static void AssertRewritesLikeTheRoundTrip(ModelView view)
    {
        var stored = Encoding.UTF8.GetBytes(Jsonb(JsonNode.Parse(JsonSerializer.Serialize(view, Stored))));
        var expected = JsonSerializer.Serialize(JsonSerializer.Deserialize<ModelView>(stored, Stored), Json.Options);

        var wire = new ArrayBufferWriter<byte>();
        Assert.True(StoredJson.TryWriteWire(stored, typeof(ModelView), Json.Options, wire));
        Assert.Equal(expected, Encoding.UTF8.GetString(wire.WrittenSpan));
    }

    /// <summary>PostgreSQL's jsonb text of a value: keys by length then bytes, a space after each colon and comma, unicode unescaped.</summary>
    private static string Jsonb(JsonNode? node) => node switch
    {
        null => "null",
        JsonObject o => "{" + string.Join(", ", o
            .OrderBy(p => Encoding.UTF8.GetByteCount(p.Key)).ThenBy(p => p.Key, StringComparer.Ordinal)
            .Select(p => JsonSerializer.Serialize(p.Key, Stored) + ": " + Jsonb(p.Value))) + "}",
        JsonArray a => "[" + string.Join(", ", a.Select(Jsonb)) + "]",
        _ => node.ToJsonString(Stored),
    };
}
