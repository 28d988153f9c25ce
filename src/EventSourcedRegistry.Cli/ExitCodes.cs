namespace EventSourcedRegistry.Cli;

public static class ExitCodes
{
    public const int Ok = 0;
    public const int Usage = 1;
    public const int NotFound = 2;
    public const int Conflict = 3;
    public const int Failed = 4;

    /// <summary>
    /// A stage move or alias assignment was recorded as a transition request waiting for approval (202): nothing has moved
    /// yet. Not 0, because a script that goes on after <c>esr stage … Production</c> (<c>set -e</c>, <c>&amp;&amp;</c>) would
    /// otherwise deploy a version nobody approved; a pipeline that only asks for the promotion accepts 5 as done.
    /// </summary>
    public const int AwaitingApproval = 5;

    public static int OfStatus(int status) => status switch
    {
        404 => NotFound,
        409 or 412 => Conflict,
        _ => Failed,
    };
}
