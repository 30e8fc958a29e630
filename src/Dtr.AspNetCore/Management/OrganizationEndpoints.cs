using Dtr.AspNetCore.Configuration;
using Dtr.Identity;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Dtr.AspNetCore.Management;

/// <summary>Organizations, their owners and their teams: <c>/organizations</c>.</summary>
internal sealed class OrganizationEndpoints
{
    private readonly IIdentityStore _identity;
    private readonly ManagementAccess _access;
    private readonly RegistryOptions _options;
    private readonly ILogger<OrganizationEndpoints> _logger;

    public OrganizationEndpoints(IIdentityStore identity, ManagementAccess access, IOptions<RegistryOptions> options, ILogger<OrganizationEndpoints> logger)
    {
        _identity = identity;
        _access = access;
        _options = options.Value;
        _logger = logger;
    }

    public static void Map(IEndpointRouteBuilder group)
    {
        var organizations = group.MapGroup("/organizations").WithTags("Organizations");

        organizations.MapPost("", ([FromServices] OrganizationEndpoints e, HttpContext c) => e.CreateAsync(c))
            .WithName("CreateOrganization").WithSummary("Create an organization; the creating administrator becomes its owner")
            .Accepts<CreateNamedRequest>(ManagementEndpoints.JsonContentType, ManagementEndpoints.AnyContentType)
            .Produces<OrganizationResponse>(StatusCodes.Status201Created)
            .ProducesValidationProblem().ProducesProblem(StatusCodes.Status409Conflict);

        organizations.MapGet("", ([FromServices] OrganizationEndpoints e, HttpContext c) => e.ListAsync(c))
            .WithName("ListOrganizations").WithSummary("List organizations by name, a page at a time")
            .Produces<OrganizationListResponse>();

        organizations.MapGet("/{org}", ([FromServices] OrganizationEndpoints e, HttpContext c, string org) => e.GetAsync(c, org))
            .WithName("GetOrganization").WithSummary("Get an organization with its owners and teams")
            .Produces<OrganizationResponse>().ProducesProblem(StatusCodes.Status404NotFound);

        organizations.MapDelete("/{org}", ([FromServices] OrganizationEndpoints e, HttpContext c, string org) => e.DeleteAsync(c, org))
            .WithName("DeleteOrganization").WithSummary("Delete an organization with its teams (administrators only); its repositories must be deleted first")
            .Produces(StatusCodes.Status204NoContent).ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict);

        organizations.MapPut("/{org}/owners/{user}", ([FromServices] OrganizationEndpoints e, HttpContext c, string org, string user) => e.AddOwnerAsync(c, org, user))
            .WithName("AddOrganizationOwner").WithSummary("Make a user an owner of the organization")
            .Produces(StatusCodes.Status204NoContent).ProducesProblem(StatusCodes.Status404NotFound);

        organizations.MapDelete("/{org}/owners/{user}", ([FromServices] OrganizationEndpoints e, HttpContext c, string org, string user) => e.RemoveOwnerAsync(c, org, user))
            .WithName("RemoveOrganizationOwner").WithSummary("Remove an owner from the organization; the last owner cannot be removed")
            .Produces(StatusCodes.Status204NoContent).ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict);

        organizations.MapPost("/{org}/teams", ([FromServices] OrganizationEndpoints e, HttpContext c, string org) => e.CreateTeamAsync(c, org))
            .WithName("CreateTeam").WithSummary("Create a team in the organization (organization owners or administrators)")
            .Accepts<CreateNamedRequest>(ManagementEndpoints.JsonContentType, ManagementEndpoints.AnyContentType)
            .Produces<TeamResponse>(StatusCodes.Status201Created)
            .ProducesValidationProblem().ProducesProblem(StatusCodes.Status409Conflict);

        organizations.MapGet("/{org}/teams", ([FromServices] OrganizationEndpoints e, HttpContext c, string org) => e.ListTeamsAsync(c, org))
            .WithName("ListTeams").WithSummary("List the organization's teams")
            .Produces<TeamListResponse>().ProducesProblem(StatusCodes.Status404NotFound);

        organizations.MapGet("/{org}/teams/{team}", ([FromServices] OrganizationEndpoints e, HttpContext c, string org, string team) => e.GetTeamAsync(c, org, team))
            .WithName("GetTeam").WithSummary("Get a team with its members")
            .Produces<TeamResponse>().ProducesProblem(StatusCodes.Status404NotFound);

        organizations.MapDelete("/{org}/teams/{team}", ([FromServices] OrganizationEndpoints e, HttpContext c, string org, string team) => e.DeleteTeamAsync(c, org, team))
            .WithName("DeleteTeam").WithSummary("Delete a team with its memberships and repository grants")
            .Produces(StatusCodes.Status204NoContent).ProducesProblem(StatusCodes.Status404NotFound);

        organizations.MapPut("/{org}/teams/{team}/members/{user}", ([FromServices] OrganizationEndpoints e, HttpContext c, string org, string team, string user) => e.AddMemberAsync(c, org, team, user))
            .WithName("AddTeamMember").WithSummary("Add a user to a team")
            .Produces(StatusCodes.Status204NoContent).ProducesProblem(StatusCodes.Status404NotFound);

        organizations.MapDelete("/{org}/teams/{team}/members/{user}", ([FromServices] OrganizationEndpoints e, HttpContext c, string org, string team, string user) => e.RemoveMemberAsync(c, org, team, user))
            .WithName("RemoveTeamMember").WithSummary("Remove a user from a team")
            .Produces(StatusCodes.Status204NoContent).ProducesProblem(StatusCodes.Status404NotFound);
    }

    private async Task<IResult> CreateAsync(HttpContext context)
    {
        var caller = ManagementRequestFilter.GetCaller(context);
        ManagementAccess.RequireAdmin(caller, "create organizations");

        var request = await ManagementInput.ReadBodyAsync<CreateNamedRequest>(context);
        var name = ManagementInput.RequireName(request.Name, "name");

        var organization = await _identity.CreateOrganizationAsync(name, context.RequestAborted);
        if (caller.UserName is not null)
        {
            await _identity.AddOwnerAsync(organization.Name, caller.UserName, context.RequestAborted);
        }

        ManagementLog.OrganizationCreated(_logger, organization.Name, UserEndpoints.Describe(caller));
        var response = await DescribeAsync(organization, context.RequestAborted);
        return TypedResults.Created(OrganizationPath(context, organization.Name), response);
    }

    private async Task<IResult> ListAsync(HttpContext context)
    {
        var (limit, last) = ManagementInput.ReadPaging(context.Request, _options.MaxPageSize);
        var organizations = await _identity.ListOrganizationsAsync(last, limit + 1, context.RequestAborted);
        var page = ManagementInput.Page(context, organizations, limit, organization => organization.Name);
        return TypedResults.Ok(new OrganizationListResponse(page.Select(o => new OrganizationSummary(o.Name, o.CreatedAt)).ToList()));
    }

    private async Task<IResult> GetAsync(HttpContext context, string name)
    {
        var organization = await _access.RequireOrganizationAsync(name, context.RequestAborted);
        return TypedResults.Ok(await DescribeAsync(organization, context.RequestAborted));
    }

    private async Task<IResult> DeleteAsync(HttpContext context, string name)
    {
        var caller = ManagementRequestFilter.GetCaller(context);
        ManagementAccess.RequireAdmin(caller, "delete organizations");

        var repositories = await _identity.ListRepositorySettingsAsync(name, null, 1, context.RequestAborted);
        if (repositories.Count > 0)
        {
            throw ManagementProblem.Conflict(
                $"The organization '{name}' still has repositories, such as '{repositories[0].Name}'; delete them first.");
        }

        if (!await _identity.DeleteOrganizationAsync(name, context.RequestAborted))
        {
            throw ManagementProblem.NotFound($"The organization '{name}' does not exist.");
        }

        ManagementLog.OrganizationDeleted(_logger, name, UserEndpoints.Describe(caller));
        return TypedResults.NoContent();
    }

    private async Task<IResult> AddOwnerAsync(HttpContext context, string organization, string userName)
    {
        var caller = ManagementRequestFilter.GetCaller(context);
        await _access.RequireOrganizationOwnerAsync(caller, organization, "add owners", context.RequestAborted);
        await RequireUserAsync(userName, context.RequestAborted);

        await _identity.AddOwnerAsync(organization, userName, context.RequestAborted);
        return TypedResults.NoContent();
    }

    private async Task<IResult> RemoveOwnerAsync(HttpContext context, string organization, string userName)
    {
        var caller = ManagementRequestFilter.GetCaller(context);
        await _access.RequireOrganizationOwnerAsync(caller, organization, "remove owners", context.RequestAborted);

        if (!await _identity.RemoveOwnerAsync(organization, userName, context.RequestAborted))
        {
            throw ManagementProblem.NotFound($"The user '{userName}' is not an owner of the organization '{organization}'.");
        }

        return TypedResults.NoContent();
    }

    private async Task<IResult> CreateTeamAsync(HttpContext context, string organization)
    {
        var caller = ManagementRequestFilter.GetCaller(context);
        await _access.RequireOrganizationOwnerAsync(caller, organization, "create teams", context.RequestAborted);

        var request = await ManagementInput.ReadBodyAsync<CreateNamedRequest>(context);
        var name = ManagementInput.RequireName(request.Name, "name");

        var team = await _identity.CreateTeamAsync(organization, name, context.RequestAborted);
        return TypedResults.Created(
            OrganizationPath(context, organization) + "/teams/" + Uri.EscapeDataString(team.Name),
            new TeamResponse(team.Organization, team.Name, team.CreatedAt, []));
    }

    private async Task<IResult> ListTeamsAsync(HttpContext context, string organization)
    {
        await _access.RequireOrganizationAsync(organization, context.RequestAborted);
        var teams = await _identity.ListTeamsAsync(organization, context.RequestAborted);
        return TypedResults.Ok(new TeamListResponse(teams.Select(t => new TeamSummary(t.Organization, t.Name, t.CreatedAt)).ToList()));
    }

    private async Task<IResult> GetTeamAsync(HttpContext context, string organization, string name)
    {
        var team = await RequireTeamAsync(organization, name, context.RequestAborted);
        var members = await _identity.ListTeamMembersAsync(organization, name, context.RequestAborted);
        return TypedResults.Ok(new TeamResponse(team.Organization, team.Name, team.CreatedAt, members));
    }

    private async Task<IResult> DeleteTeamAsync(HttpContext context, string organization, string name)
    {
        var caller = ManagementRequestFilter.GetCaller(context);
        await _access.RequireOrganizationOwnerAsync(caller, organization, "delete teams", context.RequestAborted);

        if (!await _identity.DeleteTeamAsync(organization, name, context.RequestAborted))
        {
            throw TeamNotFound(organization, name);
        }

        return TypedResults.NoContent();
    }

    private async Task<IResult> AddMemberAsync(HttpContext context, string organization, string team, string userName)
    {
        var caller = ManagementRequestFilter.GetCaller(context);
        await _access.RequireOrganizationOwnerAsync(caller, organization, "change team members", context.RequestAborted);
        await RequireTeamAsync(organization, team, context.RequestAborted);
        await RequireUserAsync(userName, context.RequestAborted);

        await _identity.AddTeamMemberAsync(organization, team, userName, context.RequestAborted);
        return TypedResults.NoContent();
    }

    private async Task<IResult> RemoveMemberAsync(HttpContext context, string organization, string team, string userName)
    {
        var caller = ManagementRequestFilter.GetCaller(context);
        await _access.RequireOrganizationOwnerAsync(caller, organization, "change team members", context.RequestAborted);
        await RequireTeamAsync(organization, team, context.RequestAborted);

        if (!await _identity.RemoveTeamMemberAsync(organization, team, userName, context.RequestAborted))
        {
            throw ManagementProblem.NotFound($"The user '{userName}' is not a member of the team '{organization}/{team}'.");
        }

        return TypedResults.NoContent();
    }

    private async ValueTask<OrganizationResponse> DescribeAsync(Organization organization, CancellationToken cancellationToken)
    {
        var owners = await _identity.ListOwnersAsync(organization.Name, cancellationToken);
        var teams = await _identity.ListTeamsAsync(organization.Name, cancellationToken);
        return new OrganizationResponse(organization.Name, organization.CreatedAt, owners, teams.Select(t => t.Name).ToList());
    }

    private async ValueTask<Team> RequireTeamAsync(string organization, string name, CancellationToken cancellationToken)
    {
        await _access.RequireOrganizationAsync(organization, cancellationToken);
        return await _identity.GetTeamAsync(organization, name, cancellationToken) ?? throw TeamNotFound(organization, name);
    }

    private async ValueTask RequireUserAsync(string userName, CancellationToken cancellationToken)
    {
        if (await _identity.GetUserAsync(userName, cancellationToken) is null)
        {
            throw ManagementProblem.NotFound($"The user '{userName}' does not exist.");
        }
    }

    private static ManagementProblem TeamNotFound(string organization, string name) =>
        ManagementProblem.NotFound($"The organization '{organization}' has no team '{name}'.");

    private static string OrganizationPath(HttpContext context, string name) =>
        $"{context.Request.PathBase}{ManagementEndpoints.Prefix(context)}/organizations/{Uri.EscapeDataString(name)}";
}
