// Node 20+: sign up, read the account, log out.
import { createRasClient } from '@ras/client';

const ras = createRasClient('https://accounts.example.com');
const { data, error } = await ras.api.POST('/api/v1/users/signup/', {
  body: { email: 'user@example.com', password: 'correct horse battery staple' },
});
if (error) throw new Error(error.message);
const userid = String(data.result.id);
const me = await ras.api.GET('/api/v1/users/{userid}/', { params: { path: { userid } } });
console.log(me.data?.email, ras.token !== undefined);
await ras.api.POST('/api/v1/users/{userid}/logout/', { params: { path: { userid } } });
