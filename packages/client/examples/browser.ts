// A browser page: log in from a form, list the sessions.
import { createRasClient, type Session } from '@ras/client';

const ras = createRasClient(window.location.origin);

export async function logIn(form: HTMLFormElement): Promise<Session[]> {
  const field = (name: string) => (form.elements.namedItem(name) as HTMLInputElement).value;
  const login = await ras.api.POST('/api/v1/users/login/', {
    body: { email: field('email'), password: field('password') },
  });
  if (!login.data) throw new Error(login.error?.message ?? 'login failed');
  const userid = String(login.data.result.id);
  const sessions = await ras.api.GET('/api/v1/users/{userid}/sessions/', { params: { path: { userid } } });
  return sessions.data?.result ?? [];
}
