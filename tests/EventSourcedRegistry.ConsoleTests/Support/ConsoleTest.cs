using System.Text.RegularExpressions;
using Deque.AxeCore.Playwright;
using EventSourcedRegistry.Api.Tests.Support;
using Microsoft.Playwright;

namespace EventSourcedRegistry.ConsoleTests.Support;

/// <summary>
/// A console test: a fresh browser context (its own cookies) per test on the shared browser, and the calls that set up
/// what the pages show, made through the API with the bootstrap key (the platform admin, and admin of default).
/// </summary>
[Collection(ConsoleCollection.Name)]
public abstract partial class ConsoleTest(ConsoleFixture console) : IAsyncLifetime
{
    [GeneratedRegex("\"traceId\":\"[^\"]*\"")]
    private static partial Regex TraceId();

    /// <summary>An answer's body without the trace id every answer carries (two answers compared for sameness).</summary>
    protected static string WithoutTraceId(string body) => TraceId().Replace(body, "");

    protected ConsoleFixture Console { get; } = console;
    protected IBrowserContext Browser { get; private set; } = null!;
    protected HttpClient Admin { get; } = console.ClientWithKey(AppFixture.AdminKey);

    public async Task InitializeAsync()
    {
        Browser = await Console.Browser.NewContextAsync(new BrowserNewContextOptions { BaseURL = Console.BaseAddress.ToString() });
        // Generous for a loaded 2-core machine; a page of this console renders in milliseconds when the machine is idle.
        // 30 s was not enough: in CI, beside the API tests, a sign-in's landing page once took longer to fire its load event.
        Browser.SetDefaultTimeout(90_000);
        Browser.SetDefaultNavigationTimeout(90_000);
    }

    public async Task DisposeAsync()
    {
        await Browser.DisposeAsync();
        Admin.Dispose();
    }

    protected static string Unique(string name) => $"{name}-{Guid.NewGuid():N}"[..(name.Length + 9)];

    /// <summary>Signs in through the form and lands on the registry page of the key's first workspace.</summary>
    protected async Task<IPage> SignIn(string key)
    {
        var page = await Browser.NewPageAsync();
        await page.GotoAsync("/console");
        Assert.Contains("/console/signin", page.Url);
        await page.Locator("#key").FillAsync(key);
        await page.Locator("form.signin button[type=submit]").ClickAsync();
        await Reached(page, new Regex("/console/workspaces/[^/]+/registry"));
        await page.Locator("form.signout").WaitForAsync();
        return page;
    }

    /// <summary>
    /// Waits until the page's URL matches <paramref name="url"/> and its document has loaded. Never by Playwright's
    /// client-side waits for an event (WaitForURLAsync, WaitForLoadStateAsync): each looks at the frame's state (its URL,
    /// its load states) and only then subscribes to the event that changes it, while the driver's events are dispatched on
    /// another thread; an event that lands between the two is missed and the wait runs into its timeout. Four CI runs beside
    /// the API tests met that (after the sign-in's redirect; after the keyboard's search), always with the page loaded
    /// (GotoAsync, whose wait runs in the driver, never did). Here both conditions are polled: the URL by Playwright's
    /// assertion, the document's readyState in the page.
    /// </summary>
    protected static async Task Reached(IPage page, Regex url)
    {
        await Assertions.Expect(page).ToHaveURLAsync(url, new() { Timeout = 90_000 });
        await Loaded(page);
    }

    /// <summary><see cref="Reached(IPage, Regex)"/> at a URL whose path ends with <paramref name="pathEnd"/> and has no query.</summary>
    protected static Task Reached(IPage page, string pathEnd) => Reached(page, new Regex(Regex.Escape(pathEnd) + "$"));

    /// <summary>The current document has loaded (polled in the page; see <see cref="Reached(IPage, Regex)"/>).</summary>
    protected static Task Loaded(IPage page) =>
        page.WaitForFunctionAsync("() => document.readyState === 'complete'", null, new() { Timeout = 90_000, PollingInterval = 50 });

    /// <summary>axe-core on the page as it is: no serious or critical violation.</summary>
    protected static async Task AssertAccessible(IPage page)
    {
        var result = await page.RunAxe();
        var bad = result.Violations.Where(v => v.Impact is "serious" or "critical").ToList();
        Assert.True(bad.Count == 0, $"{page.Url}: " + string.Join("; ", bad.Select(v => $"{v.Id} ({v.Impact}): {v.Help} at {string.Join(", ", v.Nodes.Select(n => n.Html))}")));
    }

    protected async Task<RegistryCalls.Response> Call(HttpMethod method, string url, object? body = null, string? key = null)
    {
        using var client = key is null ? null : Console.ClientWithKey(key);
        var response = await (client ?? Admin).Send(method, url, body);
        return response;
    }

    protected async Task RegisterModel(string name, string? description = null, object? tags = null, string prefix = "/api/v1", string? key = null)
    {
        var made = await Call(HttpMethod.Post, $"{prefix}/models", new { name, description, tags }, key);
        Assert.True(made.Status == 201, $"registering {name}: {made.Status} {made.Body}");
    }

    protected async Task<int> RegisterVersion(string model, string prefix = "/api/v1", string? key = null)
    {
        var made = await Call(HttpMethod.Post, $"{prefix}/models/{model}/versions", new
        {
            artifact = new { uri = $"s3://models/{model}/{Guid.NewGuid():N}.onnx", sha256 = new string('a', 64), sizeBytes = 1234 },
        }, key);
        Assert.True(made.Status == 201, $"registering a version of {model}: {made.Status} {made.Body}");
        return made.Body!["version"]!.GetValue<int>();
    }

    protected async Task Promote(string model, int version, string stage, string reason, string prefix = "/api/v1", string? key = null)
    {
        var moved = await Call(HttpMethod.Post, $"{prefix}/models/{model}/versions/{version}/stage", new { stage, reason, archiveExisting = true }, key);
        Assert.True(moved.Status == 200, $"promoting {model} v{version} to {stage}: {moved.Status} {moved.Body}");
    }

    protected async Task Alias(string model, string alias, int version, string reason)
    {
        var moved = await Call(HttpMethod.Put, $"/api/v1/models/{model}/aliases/{alias}", new { version, reason });
        Assert.True(moved.Status == 200, $"aliasing {model} v{version} as {alias}: {moved.Status} {moved.Body}");
    }

    /// <summary>A key of default with these grants (<c>{ role, model? }</c>), made by the bootstrap admin; its id and secret.</summary>
    protected async Task<(string Id, string Key)> KeyOfDefault(params object[] grants)
    {
        var made = await Call(HttpMethod.Post, "/api/v1/admin/keys", new { name = Unique("key"), owner = Unique("owner"), grants });
        Assert.True(made.Status == 201, $"{made.Status} {made.Body}");
        return (made.Body!["id"]!.GetValue<string>(), made.Body["key"]!.GetValue<string>());
    }

    /// <summary>A key of workspace <paramref name="ws"/> with these grants, made by that workspace's admin key; its secret and name.</summary>
    protected async Task<(string Key, string Name)> KeyIn(string ws, string admin, params object[] grants)
    {
        var name = Unique("key");
        var made = await Call(HttpMethod.Post, $"/api/v1/workspaces/{ws}/admin/keys", new { name, owner = Unique("owner"), grants }, admin);
        Assert.True(made.Status == 201, $"{made.Status} {made.Body}");
        return (made.Body!["key"]!.GetValue<string>(), name);
    }

    /// <summary>A new workspace and a key of its own holding <paramref name="role"/> there (made by a platform key that administers it).</summary>
    protected async Task<(string Slug, string Key, string Admin)> WorkspaceWithKey(string role, string? slug = null)
    {
        slug ??= Unique("ws");
        var created = await Call(HttpMethod.Post, "/api/v1/workspaces", new { slug, displayName = $"Workspace {slug}" });
        Assert.True(created.Status == 201, $"creating {slug}: {created.Status} {created.Body}");
        var admin = await Call(HttpMethod.Post, "/api/v1/platform/keys", new
        {
            name = Unique("admin"), owner = Unique("admin"), grants = new[] { new { role = "admin", workspace = slug } },
        });
        Assert.True(admin.Status == 201, $"{admin.Status} {admin.Body}");
        var key = await Call(HttpMethod.Post, $"/api/v1/workspaces/{slug}/admin/keys",
            new { name = Unique(role), owner = Unique(role), grants = new[] { new { role } } }, admin.Body!["key"]!.GetValue<string>());
        Assert.True(key.Status == 201, $"{key.Status} {key.Body}");
        return (slug, key.Body!["key"]!.GetValue<string>(), admin.Body["key"]!.GetValue<string>());
    }
}
