using EventSourcedRegistry.Api.Access;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace EventSourcedRegistry.Api.WebConsole.Pages;

/// <summary>The one anonymous page: an API key in, a session cookie out (see <see cref="ConsoleSession"/>).</summary>
[AllowAnonymous]
public sealed class SignInModel(ApiKeys keys, ConsoleSessions sessions, ConsoleOidcSettings oidc) : PageModel
{
    [BindProperty(SupportsGet = true)] public string? ReturnUrl { get; set; }

    public string? Error { get; private set; }

    /// <summary>Set when OpenID Connect sign-in is configured: the provider's name, for the link to it.</summary>
    public ConsoleOidcSettings Oidc => oidc;

    /// <summary>After an OpenID Connect sign-in: where the browser goes next (see <see cref="OnGetDone"/>).</summary>
    public string? Continue { get; private set; }

    public void OnGet([FromQuery] string? refused)
    {
        if (refused == "oidc" && oidc.Enabled)
        {
            Error = $"The sign-in with {oidc.DisplayName} was refused.";
            Response.StatusCode = StatusCodes.Status401Unauthorized;
        }
    }

    /// <summary>"Sign in with …": a GET (a link), since the console's <c>form-action 'self'</c> would stop a form's redirect to the provider.</summary>
    public IActionResult OnGetOidc()
    {
        if (!oidc.Enabled) return NotFound();
        return Challenge(new AuthenticationProperties { RedirectUri = ConsoleConfiguration.Root + "/signin?handler=done&returnUrl=" + Uri.EscapeDataString(Back()) }, ConsoleOidc.Scheme);
    }

    /// <summary>
    /// The provider's redirect lands the browser here, signed in. The session cookie is SameSite=Strict, and a browser
    /// may withhold it from the rest of a navigation that began on the provider's site; the page's own refresh to the
    /// console starts a navigation of the console's site, which carries it.
    /// </summary>
    public void OnGetDone()
    {
        Continue = Back();
        Response.Headers["Refresh"] = "0;url=" + Continue;
    }

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
        return LocalRedirect(Back());
    }

    /// <summary>Only back into the console: a return address elsewhere would make the form an open redirect.</summary>
    private string Back()
    {
        if (ReturnUrl is not { } back || !Url.IsLocalUrl(back)) return ConsoleConfiguration.Root;
        var path = back.Split('?', 2)[0];
        // A dot segment, plain or percent-encoded (browsers resolve both), would climb out of /console after this check.
        if (Uri.UnescapeDataString(path).Split('/').Any(segment => segment is "." or "..") || path.Contains('\\')
            || !ConsoleConfiguration.IsConsole(new PathString(path)))
            return ConsoleConfiguration.Root;
        // Kestrel writes header values in ASCII only: a return address with other letters (a search for "modèle") goes
        // into Location percent-encoded, as the browser would have sent it.
        return string.Concat(back.EnumerateRunes().Select(rune => rune.IsAscii ? rune.ToString() : Uri.EscapeDataString(rune.ToString())));
    }
}
