using EventSourcedRegistry.Api.Access;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace EventSourcedRegistry.Api.WebConsole.Pages;

/// <summary>The one anonymous page: an API key in, a session cookie out (see <see cref="ConsoleSession"/>).</summary>
[AllowAnonymous]
public sealed class SignInModel(ApiKeys keys, ConsoleSessions sessions) : PageModel
{
    [BindProperty(SupportsGet = true)] public string? ReturnUrl { get; set; }

    public string? Error { get; private set; }

    public void OnGet() { }

    public async Task<IActionResult> OnPost([FromForm] string? key)
    {
        // The API's own check of a presented key (constant-time compare, revoked keys refused).
        var record = string.IsNullOrWhiteSpace(key) ? null : await keys.Authenticate(key.Trim(), HttpContext.RequestAborted);
        if (record is null)
        {
            Error = "The API key is unknown or revoked.";
            Response.StatusCode = StatusCodes.Status401Unauthorized;
            return Page();
        }
        var session = await sessions.StartAsync(record.Id, HttpContext.RequestAborted);
        await HttpContext.SignInAsync(ConsoleSession.Scheme, ConsoleSession.SessionOf(record, session));
        // Only back into the console: a return address elsewhere would make the form an open redirect.
        return LocalRedirect(ReturnUrl is { } back && Url.IsLocalUrl(back) && ConsoleConfiguration.IsConsole(new PathString(back.Split('?')[0]))
            ? back : ConsoleConfiguration.Root);
    }
}
