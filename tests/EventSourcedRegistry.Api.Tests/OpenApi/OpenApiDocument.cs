using System.Text.Json;
using System.Text.Json.Nodes;
using Alba;
using EventSourcedRegistry.Api.Tests.Support;

namespace EventSourcedRegistry.Api.Tests.OpenApi;

/// <summary>The served /openapi/v1.json, read as the tests of this folder need it.</summary>
internal static class OpenApiDocument
{
    // Relaxed escaping: the committed file is read by people (backticks and quotes in descriptions stay as they are).
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static async Task<JsonObject> Served(IAlbaHost host) =>
        (await host.AnonymousClient().Send(HttpMethod.Get, "/openapi/v1.json").Ok()).Body!.AsObject();

    /// <summary>The document as committed: indented, "\n" line ends, a final newline.</summary>
    public static async Task<string> ServedText(IAlbaHost host) =>
        (await Served(host)).ToJsonString(Indented).ReplaceLineEndings("\n") + "\n";
}
