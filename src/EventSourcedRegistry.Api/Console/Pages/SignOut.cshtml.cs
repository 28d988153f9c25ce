using EventSourcedRegistry.Api.Infrastructure;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace EventSourcedRegistry.Api.WebConsole.Pages;

/// <summary>Ends the session (a POST with the antiforgery token, so no other site can sign a user out).</summary>
[Authorize(Policy = Policies.Authenticated)]
public sealed class SignOutModel(ConsoleSessions sessions) : PageModel
{
    public IActionResult OnGet() => LocalRedirect(ConsoleConfiguration.Root);

    public async Task<IActionResult> OnPost()
    {
        // The server's row first: a copy of the cookie kept elsewhere must die with this one.
        if (User.FindFirst(ConsoleSessions.Claim)?.Value is { } session) await sessions.EndAsync(session, HttpContext.RequestAborted);
        await HttpContext.SignOutAsync(ConsoleSession.Scheme);
        return LocalRedirect(ConsoleConfiguration.Root + "/signin");
    }
}
