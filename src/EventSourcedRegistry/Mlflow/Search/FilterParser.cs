using System.Globalization;

namespace EventSourcedRegistry.Mlflow.Search;

/// <summary>
/// Reads MLflow's search filter grammar (docs/mlflow-search.md):
/// <code>
/// filter  := ε | clause ( AND clause )*
/// clause  := field comparator value
/// field   := attribute | ( "attribute" | "tag" | "tags" ) "." key
/// key     := word ( "." word )* | `backticked` | "double quoted"
/// value   := 'single quoted' | "double quoted" | number | "(" quoted ( "," quoted )* ")"
/// </code>
/// then checks each clause against what MLflow allows for the entity (which attributes, which comparators for
/// which value). One pass over the text and one over its tokens, no recursion and no backtracking: any input, however
/// long or odd, is read or refused in time linear in its length. Hand-written rather than a parser library because the
/// grammar is small and MLflow's refusals (and their messages) are part of the protocol.
/// </summary>
public static class FilterParser
{
    /// <summary>Longer filters are refused unread. MLflow's client sends a few clauses; this leaves room for hundreds.</summary>
    public const int MaxLength = 10_000;

    private static readonly string ModelAttributeKeys = "'{'name'}'";
    private static readonly string VersionAttributeKeys = "'{'run_id', 'source_path', 'name', 'version_number'}'";
    private const string EntityTypes = "('attribute', 'tag', 'tags')";

    public static bool TryParse(string? text, SearchEntity entity, out SearchFilter filter, out SearchProblem? problem)
    {
        filter = SearchFilter.Empty(entity);
        problem = null;
        if (string.IsNullOrWhiteSpace(text)) return true;
        if (text.Length > MaxLength)
        {
            problem = new SearchProblem($"A filter has at most {MaxLength} characters; this one has {text.Length}.");
            return false;
        }
        if (text.Contains('\0'))
        {
            problem = new SearchProblem("The filter contains a NUL character.");
            return false;
        }
        // PostgreSQL text holds neither NUL nor half a surrogate pair: refused here, not as a database fault.
        if (System.Text.Unicode.Utf8.FromUtf16(text, new byte[text.Length * 3], out _, out _, replaceInvalidSequences: false)
            != System.Buffers.OperationStatus.Done)
        {
            problem = new SearchProblem("The filter is not valid Unicode text.");
            return false;
        }
        if (!Tokenizer.TryRead(text, out var tokens, out var error)
            || !TryParseClauses(text, tokens, entity, out var clauses, out error))
        {
            problem = new SearchProblem(error!);
            return false;
        }
        filter = new SearchFilter(entity, clauses);
        return true;
    }

    private static bool TryParseClauses(string text, List<Token> tokens, SearchEntity entity,
        out List<FilterClause> clauses, out string? error)
    {
        clauses = [];
        error = null;
        var at = 0;
        while (true)
        {
            if (!TryParseClause(text, tokens, ref at, entity, out var clause, out error)) return false;
            clauses.Add(clause!);
            var next = tokens[at];
            if (next.Kind == TokenKind.End) return true;
            if (next.IsKeyword("AND") && tokens[at + 1].Kind != TokenKind.End)
            {
                at++;
                continue;
            }
            error = next.Kind == TokenKind.Semicolon ? MultipleStatements(text) : InvalidClause(next);
            return false;
        }
    }

    private static bool TryParseClause(string text, List<Token> tokens, ref int at, SearchEntity entity,
        out FilterClause? clause, out string? error)
    {
        clause = null;
        // Field.
        var first = tokens[at];
        if (first.Kind == TokenKind.Semicolon) { error = MultipleStatements(text); return false; }
        if (first.Kind is not (TokenKind.Word or TokenKind.Backticked or TokenKind.DoubleQuoted) || first.IsReservedWord)
        {
            error = InvalidClause(first);
            return false;
        }
        at++;
        FilterField field;
        if (tokens[at].Kind == TokenKind.Dot && first.Kind == TokenKind.Word)
        {
            if (first.Text is not ("attribute" or "tag" or "tags"))
            {
                error = $"Invalid entity type '{SearchProblem.Shorten(first.Text)}'. Valid entity types are {EntityTypes}";
                return false;
            }
            at++;
            if (!TryReadKey(tokens, ref at, out var key, out error)) return false;
            if (first.Text == "attribute")
            {
                if (!TryReadAttribute(key!, entity, out var attribute, out error)) return false;
                field = new FilterField.Attribute(attribute);
            }
            else field = new FilterField.Tag(key!);
        }
        else
        {
            // A quoted attribute is compared quotes and all, as MLflow does, and so is never a valid key.
            if (!TryReadAttribute(first.Kind == TokenKind.Word ? first.Text : first.Source(text), entity, out var attribute, out error))
                return false;
            field = new FilterField.Attribute(attribute);
        }

        // Comparator.
        var op = tokens[at];
        Comparator comparator;
        if (op.Kind == TokenKind.Operator)
        {
            comparator = op.Text switch
            {
                "=" => Comparator.Equal,
                "!=" => Comparator.NotEqual,
                "<" => Comparator.Less,
                "<=" => Comparator.LessOrEqual,
                ">" => Comparator.Greater,
                ">=" => Comparator.GreaterOrEqual,
                _ => (Comparator)(-1),
            };
            if ((int)comparator < 0) { error = $"Invalid comparator '{SearchProblem.Shorten(op.Text)}'."; return false; }
        }
        else if (op.IsKeyword("LIKE")) comparator = Comparator.Like;
        else if (op.IsKeyword("ILIKE")) comparator = Comparator.ILike;
        else if (op.IsKeyword("IN")) comparator = Comparator.In;
        else if (op.IsKeyword("NOT") && tokens[at + 1].IsKeyword("IN"))
        {
            error = ComparatorRefused(field, "NOT IN");
            return false;
        }
        else
        {
            error = op.Kind == TokenKind.End
                ? $"Invalid comparison clause: '{SearchProblem.Shorten(first.Source(text))}' has no comparator and value."
                : InvalidClause(op);
            return false;
        }
        at++;

        // Value.
        var valueToken = tokens[at];
        FilterValue value;
        switch (valueToken.Kind)
        {
            case TokenKind.SingleQuoted or TokenKind.DoubleQuoted:
                value = new FilterValue.Text(valueToken.Text);
                at++;
                break;
            case TokenKind.Number:
                if (!decimal.TryParse(valueToken.Text, NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint | NumberStyles.AllowExponent,
                        CultureInfo.InvariantCulture, out var number))
                {
                    error = $"The number {SearchProblem.Shorten(valueToken.Text)} is out of range.";
                    return false;
                }
                value = new FilterValue.Number(number);
                at++;
                break;
            case TokenKind.LParen:
                if (!TryReadList(tokens, ref at, out var list, out error)) return false;
                value = new FilterValue.List(list!);
                break;
            case TokenKind.Word or TokenKind.Backticked when !valueToken.IsReservedWord:
                error = "Parameter value is either not quoted or unidentified quote types used for string value " +
                        $"{SearchProblem.Shorten(valueToken.Source(text))}. Use either single or double quotes.";
                return false;
            case TokenKind.End:
                error = $"Invalid comparison clause: '{SearchProblem.Shorten(first.Source(text))} {SearchFilter.ComparatorText(comparator)}' has no value.";
                return false;
            default:
                error = InvalidClause(valueToken);
                return false;
        }
        // IN takes a list and a list goes with IN only (MLflow's grammar makes "x IN 'a'" no clause at all).
        if ((comparator == Comparator.In && value is not FilterValue.List)
            || (comparator != Comparator.In && value is FilterValue.List && field is FilterField.Attribute { Which: FilterAttribute.RunId }))
        {
            error = InvalidClause(op);
            return false;
        }

        clause = new FilterClause(field, comparator, value);
        return TryCheck(clause, entity, out error);
    }

    private static bool TryReadKey(List<Token> tokens, ref int at, out string? key, out string? error)
    {
        key = null;
        error = null;
        var token = tokens[at];
        if (token.Kind is TokenKind.Backticked or TokenKind.DoubleQuoted or TokenKind.SingleQuoted)
        {
            at++;
            key = token.Text;
        }
        else if (token.Kind is TokenKind.Word or TokenKind.Number)
        {
            // tags.a.b names the key "a.b", as MLflow splits at the first dot only.
            var parts = new List<string> { token.Text };
            at++;
            while (tokens[at].Kind == TokenKind.Dot && tokens[at + 1].Kind is TokenKind.Word or TokenKind.Number)
            {
                parts.Add(tokens[at + 1].Text);
                at += 2;
            }
            key = string.Join('.', parts);
        }
        if (string.IsNullOrEmpty(key))
        {
            error = "Invalid identifier: a key follows the dot, e.g. tags.team or tags.`mlflow.source`.";
            return false;
        }
        return true;
    }

    private static bool TryReadAttribute(string key, SearchEntity entity, out FilterAttribute attribute, out string? error)
    {
        error = null;
        attribute = FilterAttribute.Name;
        FilterAttribute? found = (entity, key) switch
        {
            (_, "name") => FilterAttribute.Name,
            (SearchEntity.ModelVersions, "version_number") => FilterAttribute.VersionNumber,
            (SearchEntity.ModelVersions, "run_id") => FilterAttribute.RunId,
            (SearchEntity.ModelVersions, "source_path") => FilterAttribute.SourcePath,
            _ => null,
        };
        if (found is { } which)
        {
            attribute = which;
            return true;
        }
        error = $"Invalid attribute key '{SearchProblem.Shorten(key)}' specified. Valid keys are " +
                (entity == SearchEntity.RegisteredModels ? ModelAttributeKeys : VersionAttributeKeys);
        return false;
    }

    private static bool TryReadList(List<Token> tokens, ref int at, out List<string>? values, out string? error)
    {
        values = [];
        error = null;
        at++; // "("
        if (tokens[at].Kind == TokenKind.RParen)
        {
            error = "While parsing a list in the query, expected a non-empty list of string values, but got empty list";
            return false;
        }
        while (true)
        {
            var item = tokens[at];
            if (item.Kind is not (TokenKind.SingleQuoted or TokenKind.DoubleQuoted))
            {
                error = "While parsing a list in the query, expected a non-empty list of string values, but got ill-formed list.";
                return false;
            }
            values.Add(item.Text);
            at++;
            if (tokens[at].Kind == TokenKind.Comma) { at++; continue; }
            if (tokens[at].Kind == TokenKind.RParen) { at++; return true; }
            error = "While parsing a list in the query, expected a non-empty list of string values, but got ill-formed list.";
            return false;
        }
    }

    /// <summary>What MLflow allows per entity, attribute and value (its SearchModelUtils, SearchModelVersionUtils and store).</summary>
    private static bool TryCheck(FilterClause clause, SearchEntity entity, out string? error)
    {
        error = null;
        var (field, comparator, value) = (clause.Field, clause.Comparator, clause.Value);
        switch (field)
        {
            case FilterField.Tag:
                if (value is not FilterValue.Text)
                {
                    error = $"Expected a quoted string value for tag (e.g. 'my-value'). Got value {Printed(value)}";
                    return false;
                }
                if (comparator is not (Comparator.Equal or Comparator.NotEqual or Comparator.Like or Comparator.ILike))
                {
                    error = ComparatorRefused(field, SearchFilter.ComparatorText(comparator));
                    return false;
                }
                return true;
            case FilterField.Attribute { Which: FilterAttribute.VersionNumber }:
                if (value is FilterValue.List)
                {
                    error = "Only the 'run_id' attribute supports comparison with a list of quoted string values.";
                    return false;
                }
                if (comparator is Comparator.Like or Comparator.ILike or Comparator.In)
                {
                    error = ComparatorRefused(field, SearchFilter.ComparatorText(comparator));
                    return false;
                }
                return true;
            case FilterField.Attribute { Which: var attribute }:
                if (value is FilterValue.Number)
                {
                    error = entity == SearchEntity.RegisteredModels
                        ? $"Expected a quoted string value or a list of quoted string values for attributes. Got value {Printed(value)}"
                        : "Only the '{'version_number', 'creation_timestamp', 'last_updated_timestamp'}' attributes support comparison with numeric values.";
                    return false;
                }
                if (value is FilterValue.List && attribute != FilterAttribute.RunId)
                {
                    error = "Only the 'run_id' attribute supports comparison with a list of quoted string values.";
                    return false;
                }
                if (comparator is not (Comparator.Equal or Comparator.NotEqual or Comparator.Like or Comparator.ILike or Comparator.In))
                {
                    error = ComparatorRefused(field, SearchFilter.ComparatorText(comparator));
                    return false;
                }
                return true;
            default:
                error = "Invalid filter field.";
                return false;
        }
    }

    private static string ComparatorRefused(FilterField field, string comparator) => field switch
    {
        FilterField.Tag => $"Invalid comparator for tag: {comparator}",
        FilterField.Attribute { Which: FilterAttribute.VersionNumber } => $"Invalid comparator for attribute version_number: {comparator}",
        _ => $"Invalid comparator for attribute: {comparator}",
    };

    private static string Printed(FilterValue value) => value switch
    {
        FilterValue.Number { Value: var number } => number.ToString(CultureInfo.InvariantCulture),
        FilterValue.List { Values: var values } => SearchProblem.Shorten("(" + string.Join(", ", values.Select(v => $"'{v}'")) + ")"),
        FilterValue.Text { Value: var text } => SearchProblem.Shorten(text),
        _ => "",
    };

    private static string InvalidClause(Token token) =>
        $"Invalid clause(s) in filter string: {(token.Kind == TokenKind.End ? "end of filter" : SearchProblem.Shorten(token.Text))}";

    private static string MultipleStatements(string text) =>
        $"Search filter contained multiple expression '{SearchProblem.Shorten(text)}'. Provide AND-ed expression list.";

    internal enum TokenKind
    {
        Word,
        Backticked,
        SingleQuoted,
        DoubleQuoted,
        Number,
        Operator,
        Dot,
        LParen,
        RParen,
        Comma,
        Semicolon,
        Other,
        End,
    }

    /// <summary>Text: a word or operator as written, a quoted token's content without its quotes.</summary>
    internal readonly record struct Token(TokenKind Kind, string Text, int Start, int Length)
    {
        public bool IsKeyword(string keyword) => Kind == TokenKind.Word && Text.Equals(keyword, StringComparison.OrdinalIgnoreCase);

        public bool IsReservedWord => IsKeyword("AND") || IsKeyword("OR") || IsKeyword("NOT") || IsKeyword("IN")
                                      || IsKeyword("LIKE") || IsKeyword("ILIKE");

        public string Source(string text) => text.Substring(Start, Length);
    }

    internal static class Tokenizer
    {
        /// <summary>Tokens end with one <see cref="TokenKind.End"/> and a spare one, so the parser may look two ahead.</summary>
        public static bool TryRead(string text, out List<Token> tokens, out string? error)
        {
            tokens = [];
            error = null;
            var i = 0;
            while (i < text.Length)
            {
                var c = text[i];
                if (c is ' ' or '\t' or '\n' or '\r' or '\f' or '\v') { i++; continue; }
                var start = i;
                if (c is '\'' or '"' or '`')
                {
                    // No escapes: a quoted token ends at the next quote of its kind (a value may hold the other kinds).
                    var end = text.IndexOf(c, i + 1);
                    if (end < 0)
                    {
                        error = $"Invalid filter: the quote ({c}) at position {i + 1} is never closed.";
                        return false;
                    }
                    var kind = c switch { '\'' => TokenKind.SingleQuoted, '"' => TokenKind.DoubleQuoted, _ => TokenKind.Backticked };
                    tokens.Add(new Token(kind, text[(i + 1)..end], start, end + 1 - start));
                    i = end + 1;
                }
                else if (char.IsAsciiLetter(c) || c == '_')
                {
                    while (i < text.Length && (char.IsAsciiLetterOrDigit(text[i]) || text[i] == '_')) i++;
                    tokens.Add(new Token(TokenKind.Word, text[start..i], start, i - start));
                }
                else if (char.IsAsciiDigit(c) || (c == '-' && i + 1 < text.Length && char.IsAsciiDigit(text[i + 1])))
                {
                    i++;
                    while (i < text.Length && char.IsAsciiDigit(text[i])) i++;
                    if (i + 1 < text.Length && text[i] == '.' && char.IsAsciiDigit(text[i + 1]))
                    {
                        i++;
                        while (i < text.Length && char.IsAsciiDigit(text[i])) i++;
                    }
                    if (i < text.Length && text[i] is 'e' or 'E')
                    {
                        var e = i + 1;
                        if (e < text.Length && text[e] is '+' or '-') e++;
                        if (e < text.Length && char.IsAsciiDigit(text[e]))
                        {
                            i = e;
                            while (i < text.Length && char.IsAsciiDigit(text[i])) i++;
                        }
                    }
                    // "1abc": digits run into a word, as in a tag key (tags.1abc) — one word.
                    if (i < text.Length && (char.IsAsciiLetter(text[i]) || text[i] == '_'))
                    {
                        while (i < text.Length && (char.IsAsciiLetterOrDigit(text[i]) || text[i] == '_')) i++;
                        tokens.Add(new Token(TokenKind.Word, text[start..i], start, i - start));
                    }
                    else tokens.Add(new Token(TokenKind.Number, text[start..i], start, i - start));
                }
                else if (c is '=' or '!' or '<' or '>')
                {
                    while (i < text.Length && text[i] is '=' or '!' or '<' or '>' && i - start < 3) i++;
                    tokens.Add(new Token(TokenKind.Operator, text[start..i], start, i - start));
                }
                else
                {
                    var kind = c switch
                    {
                        '.' => TokenKind.Dot,
                        '(' => TokenKind.LParen,
                        ')' => TokenKind.RParen,
                        ',' => TokenKind.Comma,
                        ';' => TokenKind.Semicolon,
                        _ => TokenKind.Other,
                    };
                    // One whole character (a surrogate pair stays together) for the message.
                    var length = char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]) ? 2 : 1;
                    tokens.Add(new Token(kind, text.Substring(i, length), start, length));
                    i += length;
                }
            }
            tokens.Add(new Token(TokenKind.End, "", text.Length, 0));
            tokens.Add(new Token(TokenKind.End, "", text.Length, 0));
            return true;
        }
    }
}
