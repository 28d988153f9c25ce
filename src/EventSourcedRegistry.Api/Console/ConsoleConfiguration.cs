using EventSourcedRegistry.Api.Workspaces;
using EventSourcedRegistry.Store;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.Extensions.Options;
using Npgsql;

// The folder is Console/; the namespace is not, since EventSourcedRegistry.Api.Console would hide System.Console from
// every other namespace of the host.
namespace EventSourcedRegistry.Api.WebConsole;

/// <summary>
/// The registry console (issue 15): Razor Pages under <c>/console</c>, served by the API's own process with its own
/// authentication, behind a session cookie (<see cref="ConsoleSession"/>). Pages of a workspace live under
/// <c>/console/workspaces/{ws}/…</c>: the prefix sets the request's workspace before authentication, as the API's prefix
/// does, so the membership rule (a non-member's answer is a missing workspace's) and every workspace-scoped service apply
/// unchanged.
/// </summary>
public static class ConsoleConfiguration
{
    public const string Root = "/console";
    public const string WorkspacesPrefix = Root + "/workspaces";
    public const string StylesheetPath = Root + "/assets/console.css";

    public static WebApplicationBuilder AddConsole(this WebApplicationBuilder builder)
    {
        builder.Services.AddRazorPages(options => options.RootDirectory = "/Console/Pages");
        builder.Services.AddSingleton<ConsoleReads>();
        builder.Services.AddSingleton<ConsoleApprovals>();
        builder.Services.AddSingleton<ConsoleAdmin>();
        builder.Services.AddSingleton<ConsoleRollback>();
        builder.Services.AddSingleton<ConsoleTables>();
        builder.Services.AddSingleton<ConsoleSessions>();
        // One key ring for every node, in the database they share (see DataProtectionKeys); the application name, not
        // the content root (the default discriminator), decides which nodes read each other's cookies.
        builder.Services.AddDataProtection().SetApplicationName("EventSourcedRegistry");
        builder.Services.AddSingleton<IConfigureOptions<KeyManagementOptions>>(services =>
            new ConfigureOptions<KeyManagementOptions>(options => options.XmlRepository = new DataProtectionKeys(services.GetRequiredService<NpgsqlDataSource>(), services.GetRequiredService<ConsoleTables>())));
        builder.Services.AddAntiforgery(options =>
        {
            options.Cookie.Name = "esr-console-antiforgery";
            options.Cookie.SameSite = SameSiteMode.Strict;
            options.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
            // The console's own headers deny framing outright (DENY and frame-ancestors 'none'), not SAMEORIGIN.
            options.SuppressXFrameOptionsHeader = true;
        });
        ConsoleSession.Add(builder);
        ConsoleOidc.Add(builder);
        return builder;
    }

    /// <summary>After the API's workspace prefix and routing, before authentication (which reads the request's workspace).</summary>
    public static IApplicationBuilder UseConsoleAddressing(this IApplicationBuilder app) => app.Use((http, next) =>
    {
        if (!IsConsole(http.Request.Path)) return next(http);
        if (TryWorkspace(http.Request.Path, out var workspace)) http.Features.Set<IWorkspaceFeature>(new WorkspaceFeature(workspace));
        http.Response.OnStarting(() =>
        {
            var headers = http.Response.Headers;
            // No inline script or style anywhere: everything the page runs or wears comes from the app itself.
            headers.ContentSecurityPolicy = "default-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'";
            headers.XContentTypeOptions = "nosniff";
            headers.XFrameOptions = "DENY";
            headers["Referrer-Policy"] = "no-referrer";
            // Pages show what one caller may read: never kept by a shared cache or the browser's back-forward store.
            if (!http.Request.Path.StartsWithSegments(Root + "/assets")) headers.CacheControl = "no-store";
            return Task.CompletedTask;
        });
        return next(http);
    });

    public static WebApplication MapConsole(this WebApplication app)
    {
        app.MapRazorPages();
        var css = Stylesheet();
        app.MapGet(StylesheetPath, () => Results.Text(css, "text/css; charset=utf-8")).AllowAnonymous().ExcludeFromDescription();
        return app;
    }

    public static bool IsConsole(PathString path) => path.StartsWithSegments(Root, StringComparison.OrdinalIgnoreCase);

    /// <summary><c>/console/workspaces/{ws}/…</c>: the workspace; false for any other path or a segment that is no slug.</summary>
    public static bool TryWorkspace(PathString path, out WorkspaceId workspace)
    {
        workspace = WorkspaceId.Default;
        if (!path.StartsWithSegments(WorkspacesPrefix, StringComparison.OrdinalIgnoreCase, out var rest) || rest.Value is not { Length: > 1 } tail) return false;
        var slash = tail.IndexOf('/', 1);
        var slug = slash < 0 ? tail[1..] : tail[1..slash];
        if (!WorkspaceId.TryParse(slug, out var parsed) || parsed == WorkspaceId.Platform) return false;
        workspace = parsed;
        return true;
    }

    /// <summary>A page of the console in a workspace.</summary>
    public static string PathOf(WorkspaceId workspace, string page) => $"{WorkspacesPrefix}/{Uri.EscapeDataString(workspace.Slug)}/{page}";

    private static string Stylesheet()
    {
        using var stream = typeof(ConsoleConfiguration).Assembly.GetManifestResourceStream("EventSourcedRegistry.Api.Console.console.css")
                           ?? throw new InvalidOperationException("The console's stylesheet is missing from the assembly.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
