using System.Net.Http.Headers;
using System.Text.Json;
using System.Text.Json.Nodes;
using Alba;

namespace EventSourcedRegistry.Api.Tests.Support;

/// <summary>Raw-body uploads and downloads of artifacts.</summary>
public static class ArtifactCalls
{
    public static Task<RegistryCalls.Response> Upload(this IAlbaHost host, byte[] bytes, string? declaredSha256 = null,
        IDictionary<string, string>? headers = null) =>
        host.Upload(new MemoryStream(bytes), declaredSha256, headers);

    /// <summary>Streams <paramref name="content"/> as the request body (chunked when its length is unknown).</summary>
    public static async Task<RegistryCalls.Response> Upload(this IAlbaHost host, Stream content, string? declaredSha256 = null,
        IDictionary<string, string>? headers = null, bool chunked = false)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/artifacts");
        request.Content = new StreamContent(content, 256 * 1024);
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        if (chunked) request.Headers.TransferEncodingChunked = true;
        else if (content.CanSeek) request.Content.Headers.ContentLength = content.Length;
        if (declaredSha256 is not null) request.Headers.TryAddWithoutValidation("X-Content-SHA256", declaredSha256);
        foreach (var (name, value) in headers ?? new Dictionary<string, string>())
            if (!request.Headers.TryAddWithoutValidation(name, value)) request.Content.Headers.TryAddWithoutValidation(name, value);
        var response = await host.Client().SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        JsonNode? json = null;
        if (text.Length > 0)
        {
            try { json = JsonNode.Parse(text); }
            catch (JsonException) { json = JsonValue.Create(text); }
        }
        return new RegistryCalls.Response((int)response.StatusCode, json, response);
    }

    public static async Task<string> UploadOk(this IAlbaHost host, byte[] bytes)
    {
        var response = await host.Upload(bytes);
        Assert.True(response.Status is 200 or 201, $"uploading: {response.Status} {response.Body}");
        return response.Body!["sha256"]!.GetValue<string>();
    }

    public static async Task<HttpResponseMessage> Download(this IAlbaHost host, string path, Action<HttpRequestMessage>? configure = null,
        HttpMethod? method = null)
    {
        var request = new HttpRequestMessage(method ?? HttpMethod.Get, path);
        configure?.Invoke(request);
        return await host.Client().SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
    }
}
