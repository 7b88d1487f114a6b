// node dist/example.js [YEAR]: a season's calendar and champion, then the signed-in user
// when PYPOLE_EMAIL and PYPOLE_PASSWORD are set. PYPOLE_URL: the GraphQL endpoint.
import { GraphQLRequestError, request } from "./client.js";
import { LoginDocument, MeDocument, SeasonDashboardDocument } from "./generated/graphql.js";

const url = process.env.PYPOLE_URL ?? "http://127.0.0.1:8000/graphql";
const year = Number(process.argv[2] ?? "2023");

async function main(): Promise<void> {
  const { season } = await request({ url }, SeasonDashboardDocument, { year });
  if (season === null) {
    console.log(`${year}: no calendar published`);
    return;
  }
  for (const race of season.races) {
    console.log(`${season.year} round ${race.round}: ${race.name} (${race.circuit.name})`);
  }
  const leader = season.driverStandings[0];
  if (leader !== undefined) {
    const name = leader.driver.code ?? leader.driver.familyName;
    console.log(`leader: ${name} with ${leader.points} points`);
  }

  const email = process.env.PYPOLE_EMAIL;
  const password = process.env.PYPOLE_PASSWORD;
  if (email !== undefined && password !== undefined) {
    const { login } = await request({ url }, LoginDocument, { email, password });
    const { me } = await request({ url, token: login.accessToken }, MeDocument, {});
    console.log(`signed in as ${me?.username ?? "nobody"} (theme ${me?.theme ?? "-"})`);
  }
}

main().catch((error: unknown) => {
  if (error instanceof GraphQLRequestError) {
    console.error(`pypole: ${error.code ?? "ERROR"}: ${error.message}`);
  } else {
    console.error(error);
  }
  process.exitCode = 1;
});
