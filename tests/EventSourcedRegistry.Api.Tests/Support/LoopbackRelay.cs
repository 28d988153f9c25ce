using Alba;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;

namespace EventSourcedRegistry.Api.Tests.Support;

/// <summary>
/// A real loopback socket in front of the shared in-memory test host, for a program in another process (Node running a
/// generated client) to call. Hand-written because ASP.NET Core ships no reverse proxy, and starting the API as a
/// process of its own (<see cref="ApiProcess"/>) costs the CI run seconds per class: this relay starts in milliseconds and
/// hands each request unchanged to the same app pipeline the other tests call.
/// </summary>
public sealed class LoopbackRelay : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly HttpClient _host;

    private LoopbackRelay(WebApplication app, HttpClient host, string address)
    {
        _app = app;
        _host = host;
        Address = address;
    }

    /// <summary>The relay's base address, e.g. <c>http://127.0.0.1:41234</c>.</summary>
    public string Address { get; }

    public static async Task<LoopbackRelay> Start(IAlbaHost target)
    {
        // No configuration sources, no logging: nothing in the test run's settings or environment can move it.
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.WebHost.UseKestrelCore().UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        var host = target.Server.CreateClient();
        app.Run(context => Forward(context, host));
        await app.StartAsync();
        // Kestrel puts the port it bound in place of 0.
        var address = app.Urls.Single();
        return new LoopbackRelay(app, host, address.TrimEnd('/'));
    }

    private static async Task Forward(HttpContext context, HttpClient host)
    {
        using var request = new HttpRequestMessage(new HttpMethod(context.Request.Method), context.Request.Path + context.Request.QueryString);
        if (context.Request.ContentLength > 0 || context.Request.Headers.TransferEncoding.Count > 0)
            request.Content = new StreamContent(context.Request.Body);
        foreach (var (name, values) in context.Request.Headers)
        {
            if (string.Equals(name, "Host", StringComparison.OrdinalIgnoreCase)) continue;
            if (!request.Headers.TryAddWithoutValidation(name, values.ToArray()))
                request.Content?.Headers.TryAddWithoutValidation(name, values.ToArray());
        }

        using var response = await host.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, context.RequestAborted);
        context.Response.StatusCode = (int)response.StatusCode;
        foreach (var (name, values) in response.Headers.Concat(response.Content.Headers))
            context.Response.Headers[name] = values.ToArray();
        // Kestrel frames the body itself.
        context.Response.Headers.Remove("Transfer-Encoding");
        await response.Content.CopyToAsync(context.Response.Body, context.RequestAborted);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        _host.Dispose();
    }
}
