using EventSourcedRegistry.Api.Access;
using EventSourcedRegistry.Api.Infrastructure;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace EventSourcedRegistry.Api.WebConsole.Pages;

/// <summary>
/// The signed-in key's (or identity's) open console sessions, and "sign out everywhere": every one of them ended on the
/// server (a POST with the antiforgery token), this browser's included. Lists no secret: a session's id only marks the
/// current one.
/// </summary>
[Authorize(Policy = Policies.Authenticated)]
public sealed class SessionsModel(ConsoleSessions sessions, IConfiguration configuration) : PageModel
{
    public IReadOnlyList<SessionRow> Rows { get; private set; } = [];
    public string? Current => User.FindFirst(ConsoleSessions.Claim)?.Value;
    public string Actor => AccessClaims.ActorOf(User) ?? "";
    public string Idle => ConsoleSession.IdleTimeoutOf(configuration).ToString("c");

    public async Task<IActionResult> OnGet()
    {
        if (ConsoleSession.HolderOf(User) is not { } holder) return Forbid();
        Rows = await sessions.ListAsync(holder, HttpContext.RequestAborted);
        return Page();
    }

    public async Task<IActionResult> OnPost()
    {
        if (ConsoleSession.HolderOf(User) is not { } holder) return Forbid();
        await sessions.EndAllAsync(holder, HttpContext.RequestAborted);
        await HttpContext.SignOutAsync(ConsoleSession.Scheme);
        return LocalRedirect(ConsoleConfiguration.Root + "/signin");
    }

    public static string Shown(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss");
}
