// Texts to pick from in the demo (written for it; free to use). A person can
// also paste their own.

const animals = ['cat', 'dog', 'fox', 'bird', 'horse', 'cow'];
const places = ['garden', 'house', 'field', 'forest', 'river', 'barn'];
const verbs = ['sleeps', 'runs', 'sits', 'plays', 'eats', 'waits'];

/** A small regular text: the structure a tiny model learns in seconds. */
function farm() {
  const lines = [];
  for (let i = 0; i < 120; i++) {
    const a = animals[i % animals.length], p = places[(i * 5 + 1) % places.length], v = verbs[(i * 7 + 2) % verbs.length];
    lines.push(`the ${a} ${v} in the ${p} .`);
    if (i % 3 === 0) lines.push(`every morning the ${a} goes to the ${p} and ${v} there .`);
    if (i % 4 === 1) lines.push(`i think that the ${a} likes the ${p} .`);
  }
  return lines.join('\n');
}

export const SAMPLES = {
  farm: { title: 'Farm sentences (small, learns in seconds)', text: farm() },
  weather: {
    title: 'Weather reports',
    text: Array.from({ length: 80 }, (_, i) => {
      const sky = ['sunny', 'cloudy', 'rainy', 'windy'][i % 4];
      const day = ['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'][i % 7];
      const t = 10 + ((i * 7) % 15);
      return `on ${day} it will be ${sky} with a high of ${t} degrees .\nin the evening it will be ${sky === 'rainy' ? 'wet' : 'dry'} and cool .`;
    }).join('\n'),
  },
};
